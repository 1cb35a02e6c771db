import { combinedAction, type Decision } from '../../../policies/evaluate';
import type { Action, TestMessage } from '../../../policies/schema';
import { ApiError } from '../../errors';
import { chatAdapter } from '../../pipeline/adapters';
import { controlTokenError } from '../../pipeline/extract/controlTokens';
import { checkAnswer, checkInput } from '../../pipeline/guardChecks';
import { guardFault, type GuardFault } from '../../pipeline/guardFault';
import type { GuardPhase } from '../../record/guardPhase';
import type { PolicyRuntime } from '../../pipeline/runtime/policyRuntime';
import { checkStreamedAnswer, type StreamedOutcome } from './streamedAnswer';

export interface ConversationInput {
  messages: TestMessage[];
  /** A scripted assistant answer for the output rules; without it only the input rules run. */
  answer?: string;
  /** Also check the answer as a stream of it is checked, when the policy streams in window mode (`policy explain`). */
  streamed?: boolean;
}

export interface ConversationResult {
  input: GuardPhase;
  /** Present when an answer was given and the input was not blocked (the gateway would not call the engine). */
  output?: GuardPhase;
  /** What the client would experience (a whole answer; `streamed` for a streamed one). */
  action: Action;
  /** With `streamed` and an answer under `streaming.mode: window`: the answer checked window by window, as a stream of it is. */
  streamed?: StreamedOutcome;
  /** The decision that set `action` (the input's on a tie, as the input is decided first). */
  deciding: Decision;
  /**
   * Set when the block came from guard errors alone (on_error: block): a fault, not a verdict.
   * The gateway answers it 503 guard_unavailable and records action `error`, never `block`.
   */
  fault?: GuardFault & { direction: 'input' | 'output' };
}

/**
 * Runs a conversation through a policy exactly as the gateway's request path does, minus the
 * engine: the same text extraction (chatAdapter), the same guard phase and the same output check,
 * on the guards the PolicyHolder loaded. What `policy test` and `policy explain` report is
 * therefore what the gateway would do.
 */
export async function runConversation(runtime: PolicyRuntime, conversation: ConversationInput): Promise<ConversationResult> {
  const fields = runtime.loaded.policy.request_fields;
  let parsed;
  try {
    // As guardedRoute.ts: the policy's request_fields, then its control-token refusal, before any guard.
    parsed = chatAdapter.parse({ model: 'policy-cli', messages: conversation.messages }, fields);
    if (fields.control_tokens === 'refuse') {
      const forged = controlTokenError(parsed.inputTexts);
      if (forged) throw forged;
    }
  } catch (err) {
    if (err instanceof ApiError) return refused(runtime, err);
    throw err;
  }
  const input = await checkInput(runtime, parsed);
  let output: GuardPhase | undefined;
  let streamed: StreamedOutcome | undefined;
  if (conversation.answer !== undefined && input.decision.action !== 'block') {
    output = await checkAnswer(runtime, parsed, { content: conversation.answer, toolCalls: [] }, 0);
    // A guard fault on the whole answer would only wait out its timeout again on every window.
    if (conversation.streamed && runtime.loaded.policy.streaming.mode === 'window' && !guardFault(output.decision)) streamed = await checkStreamedAnswer(runtime, parsed, conversation.answer);
  }
  const action = combinedAction(input.decision, output?.decision);
  const deciding = output && output.decision.action === action && input.decision.action !== action ? output.decision : input.decision;
  const fault = guardFault(input.decision) ?? (output ? guardFault(output.decision) : undefined);
  return { input, output, action, deciding, ...(streamed ? { streamed } : {}), ...(fault ? { fault: { ...fault, direction: guardFault(input.decision) ? 'input' : 'output' } } : {}) };
}

/** The gateway would answer 400 before any guard ran: what the client experiences is a block. */
function refused(runtime: PolicyRuntime, err: ApiError): ConversationResult {
  const decision: Decision = {
    direction: 'input',
    action: 'block',
    decidingRule: `refused:${err.code ?? 'invalid_request'}`,
    reason: `the gateway refuses the request (400 ${err.code ?? 'invalid_request'}): ${err.message}`,
    outcomes: [],
    shadow: [],
    policy: { id: runtime.loaded.id, version: runtime.loaded.version },
  };
  return { input: { decision, verdicts: [], durationMs: 0 }, action: 'block', deciding: decision };
}

/** A test case's or the explain command's messages: a bare prompt is one user message. */
export function messagesOf(source: { prompt?: string; conversation?: TestMessage[] }): TestMessage[] {
  return source.conversation ?? [{ role: 'user', content: source.prompt ?? '' }];
}

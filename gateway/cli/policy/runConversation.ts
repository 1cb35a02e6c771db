import { combinedAction, type Decision } from '../../../policies/evaluate';
import type { Action, TestMessage } from '../../../policies/schema';
import { chatAdapter } from '../../pipeline/adapters';
import { checkAnswer, checkInput } from '../../pipeline/guardChecks';
import type { GuardPhase } from '../../record/guardPhase';
import type { PolicyRuntime } from '../../pipeline/runtime/policyRuntime';

export interface ConversationInput {
  messages: TestMessage[];
  /** A scripted assistant answer for the output rules; without it only the input rules run. */
  answer?: string;
}

export interface ConversationResult {
  input: GuardPhase;
  /** Present when an answer was given and the input was not blocked (the gateway would not call the engine). */
  output?: GuardPhase;
  /** What the client would experience. */
  action: Action;
  /** The decision that set `action` (the input's on a tie, as the input is decided first). */
  deciding: Decision;
}

/**
 * Runs a conversation through a policy exactly as the gateway's request path does, minus the
 * engine: the same text extraction (chatAdapter), the same guard phase and the same output check,
 * on the guards the PolicyHolder loaded. What `policy test` and `policy explain` report is
 * therefore what the gateway would do.
 */
export async function runConversation(runtime: PolicyRuntime, conversation: ConversationInput): Promise<ConversationResult> {
  const parsed = chatAdapter.parse({ model: 'policy-cli', messages: conversation.messages });
  const input = await checkInput(runtime, parsed);
  let output: GuardPhase | undefined;
  if (conversation.answer !== undefined && input.decision.action !== 'block') {
    output = await checkAnswer(runtime, parsed, { content: conversation.answer, toolCalls: [] }, 0);
  }
  const action = combinedAction(input.decision, output?.decision);
  const deciding = output && output.decision.action === action && input.decision.action !== action ? output.decision : input.decision;
  return { input, output, action, deciding };
}

/** A test case's or the explain command's messages: a bare prompt is one user message. */
export function messagesOf(source: { prompt?: string; conversation?: TestMessage[] }): TestMessage[] {
  return source.conversation ?? [{ role: 'user', content: source.prompt ?? '' }];
}

import type { GuardPhase } from '../record/guardPhase';
import type { PolicyRuntime } from './runtime/policyRuntime';
import { answerScanTexts, answerTurn, type AssistantAnswer } from './extractTexts';
import type { ParsedCompletion } from './parsedCompletion';
import { runGuardPhase } from './runRules';

/**
 * The two guard phases of a request, as the gateway, the policy CLI and the coverage tests run
 * them: the policy's input rules on the request, its output rules on one answer.
 */
export function checkInput(runtime: PolicyRuntime, parsed: ParsedCompletion, signal?: AbortSignal): Promise<GuardPhase> {
  return runGuardPhase({
    direction: 'input',
    rules: runtime.loaded.policy.input,
    guards: runtime.guards,
    timeouts: runtime.timeouts,
    texts: parsed.inputTexts,
    conversation: parsed.conversation,
    policy: { id: runtime.loaded.id, version: runtime.loaded.version },
    signal,
  });
}

/** Output guard phase for one choice's answer (the conversation plus the answer as the assistant's turn). */
export function checkAnswer(runtime: PolicyRuntime, parsed: ParsedCompletion, answer: AssistantAnswer, choice: number, signal?: AbortSignal): Promise<GuardPhase & { choice: number }> {
  return runGuardPhase({
    direction: 'output',
    rules: runtime.loaded.policy.output,
    guards: runtime.guards,
    timeouts: runtime.timeouts,
    texts: answerScanTexts(answer, `choices[${choice}].message`),
    conversation: [...parsed.conversation, answerTurn(answer)],
    policy: { id: runtime.loaded.id, version: runtime.loaded.version },
    signal,
  }).then((phase) => ({ ...phase, choice }));
}

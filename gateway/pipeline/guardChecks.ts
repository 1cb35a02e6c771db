import type { GuardPhase } from '../record/guardPhase';
import type { PolicyRuntime } from './runtime/policyRuntime';
import type { ChatTurn, ScanText } from '../../guards/types';
import { combinedActionOf } from '../../policies/evaluate';
import { bookkeepingText } from './extract/answer';
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

/**
 * Output guard phase for one choice's answer (the conversation plus the answer as the assistant's
 * turn). Bookkeeping an engine never sends (bookkeeping.ts) is checked as an answer of its own, so
 * it cannot dilute the answer's score; the more severe of the two phases stands.
 */
export async function checkAnswer(runtime: PolicyRuntime, parsed: ParsedCompletion, answer: AssistantAnswer, choice: number, signal?: AbortSignal): Promise<GuardPhase & { choice: number }> {
  const run = (texts: ScanText[], turn: ChatTurn) =>
    runGuardPhase({
      direction: 'output',
      rules: runtime.loaded.policy.output,
      guards: runtime.guards,
      timeouts: runtime.timeouts,
      texts,
      conversation: [...parsed.conversation, turn],
      policy: { id: runtime.loaded.id, version: runtime.loaded.version },
      signal,
    });
  const bookkeeping = bookkeepingText(answer);
  const [main, side] = await Promise.all([
    run(answerScanTexts(answer, `choices[${choice}].message`), answerTurn(answer)),
    bookkeeping === undefined ? undefined : run([{ source: 'assistant', path: `choices[${choice}].bookkeeping`, text: bookkeeping }], { role: 'assistant', content: bookkeeping }),
  ]);
  const worse = side && combinedActionOf([main.decision, side.decision]) !== main.decision.action ? side : main;
  return { ...worse, choice };
}

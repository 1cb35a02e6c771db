import type { GuardPhase, RuleVerdict } from '../record/guardPhase';
import type { PolicyRuntime } from './runtime/policyRuntime';
import type { ChatTurn, ScanText, Verdict } from '../../guards/types';
import { decide, evaluateRule, SEVERITY } from '../../policies/evaluate';
import type { Rule } from '../../policies/schema';
import { bookkeepingText } from './extract/answer';
import { answerScanTexts, answerTurn, type AssistantAnswer } from './extractTexts';
import type { ParsedCompletion } from './parsedCompletion';
import { runGuardPhase } from './runRules';

/**
 * The two guard phases of a request, as the gateway, the policy CLI and the coverage tests run
 * them: the policy's input rules on the request, its output rules on one answer. `tenant`: whose
 * request it is, its app and key (RequestContext.cacheTenant: cached verdicts are reused within one).
 */
export function checkInput(runtime: PolicyRuntime, parsed: ParsedCompletion, signal?: AbortSignal, tenant?: string): Promise<GuardPhase> {
  return runGuardPhase({
    tenant,
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
export async function checkAnswer(runtime: PolicyRuntime, parsed: ParsedCompletion, answer: AssistantAnswer, choice: number, signal?: AbortSignal, tenant?: string): Promise<GuardPhase & { choice: number }> {
  const run = (texts: ScanText[], turn: ChatTurn) =>
    runGuardPhase({
      tenant,
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
    run(answerScanTexts(answer, `choices[${choice}].message`), { ...answerTurn(answer), path: `choices[${choice}].message` }),
    bookkeeping === undefined ? undefined : run([{ source: 'assistant', path: `choices[${choice}].bookkeeping`, text: bookkeeping }], { role: 'assistant', content: bookkeeping, path: `choices[${choice}].bookkeeping` }),
  ]);
  const phase = side ? mergeAnswerPhases(runtime.loaded.policy.output, main, side, { id: runtime.loaded.id, version: runtime.loaded.version }) : main;
  return { ...phase, choice };
}

/**
 * Pure: one phase from the answer's and its bookkeeping's, rule by rule: each rule keeps the
 * verdict whose outcome is the more severe (what it asks for, shadow rules included), a verdict
 * before a guard error at the same severity (decide's own rule), the answer's on a tie; then the
 * policy decides on those verdicts as on any others. A rule's other verdict is kept as an other reading.
 */
export function mergeAnswerPhases(rules: Rule[], main: GuardPhase, side: GuardPhase, policy: { id: string; version: string }): GuardPhase {
  const mainVerdicts = new Map(main.verdicts.map((v) => [v.ruleId, v.verdict]));
  const sideVerdicts = new Map(side.verdicts.map((v) => [v.ruleId, v.verdict]));
  const rank = (rule: Rule, verdict: Verdict) => SEVERITY[evaluateRule(rule, verdict).action] * 2 + (verdict.error ? 0 : 1);
  const merged: RuleVerdict[] = [];
  const others: RuleVerdict[] = [];
  for (const rule of rules) {
    const a = mainVerdicts.get(rule.id);
    const b = sideVerdicts.get(rule.id);
    const verdict = a && b ? (rank(rule, b) > rank(rule, a) ? b : a) : (a ?? b);
    if (verdict) merged.push({ ruleId: rule.id, verdict });
    const other = verdict === a ? b : a;
    if (other) others.push({ ruleId: rule.id, verdict: other });
  }
  const decision = decide('output', rules, new Map(merged.map((v) => [v.ruleId, v.verdict])), policy);
  return { decision, verdicts: merged, ...(others.length ? { otherReadings: others } : {}), durationMs: Math.max(main.durationMs, side.durationMs) };
}

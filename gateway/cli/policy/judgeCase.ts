import { combinedAction } from '../../../policies/evaluate';
import type { TestCase } from '../../../policies/schema';
import type { ConversationResult } from './runConversation';

export interface CaseOutcome {
  name: string;
  passed: boolean;
  expected: string;
  actual: string;
  /** The rule that decided, if any. */
  rule?: string;
  /** Why it passed (the deciding reason) or every way it failed. */
  detail: string;
}

/** Pure: a test case's expectations against what the policy did. */
export function judgeCase(test: TestCase, result: ConversationResult): CaseOutcome {
  const failures: string[] = [];
  // A guard that failed reached no verdict: its rule's on_error decided, which says nothing about
  // the policy (the gateway would answer 503 guard_unavailable, or let it through unjudged).
  // Shadow rules too: a shadow rule whose guard failed "fires" through on_error, and a shadow expectation would pass for that.
  const streamed = result.streamed?.phase.decision;
  const faults = [...result.input.decision.outcomes, ...(result.output?.decision.outcomes ?? []), ...(streamed?.outcomes ?? [])].filter((o) => o.errorType);
  for (const o of faults) failures.push(`guard ${o.guard} failed (${o.errorType}) in rule ${o.ruleId}: no verdict`);
  const rule = result.action === 'allow' ? undefined : result.deciding.decidingRule;
  if (result.action !== test.expect) failures.push(`expected ${test.expect}, got ${result.action}`);
  if (test.rule !== undefined && rule !== test.rule) failures.push(`expected rule ${test.rule} to decide, got ${rule ?? 'none'}`);
  // Under window mode a streamed answer is checked window by window: a window can block what the
  // whole answer passes, and a harm split across windows passes when whole_answer is off. A client
  // that streams meets that outcome, so the case holds only if it holds both ways.
  // What a streaming client meets: the input's decision with the answer's as window mode checks it.
  const streamedAction = streamed ? combinedAction(result.input.decision, streamed) : undefined;
  if (streamed && streamedAction && result.streamed) {
    const deciding = streamed.action === streamedAction && result.input.decision.action !== streamedAction ? streamed : result.input.decision;
    const where = deciding === streamed ? ` at tokens ${result.streamed.window.from}-${result.streamed.window.to} of ${result.streamed.tokens}` : '';
    if (streamedAction !== test.expect) failures.push(`streamed (window mode): expected ${test.expect}, got ${streamedAction}${streamedAction === 'allow' ? '' : `${where} (${deciding.reason})`}`);
    else if (test.rule !== undefined && streamedAction !== 'allow' && deciding.decidingRule !== test.rule) failures.push(`streamed (window mode): expected rule ${test.rule} to decide, got ${deciding.decidingRule ?? 'none'}${where}`);
  }
  if (test.shadow !== undefined) {
    const fired = [...result.input.decision.shadow, ...(result.output?.decision.shadow ?? [])].map((o) => o.ruleId);
    const want = [...test.shadow].sort();
    const got = [...new Set(fired)].sort();
    if (want.join(',') !== got.join(',')) failures.push(`expected shadow [${want.join(', ')}], got [${got.join(', ')}]`);
  }
  const why = result.deciding.reason;
  return {
    name: test.name,
    passed: failures.length === 0,
    expected: test.expect + (test.rule ? ` (${test.rule})` : ''),
    actual: result.action + (streamedAction && streamedAction !== result.action ? ` (streamed: ${streamedAction})` : ''),
    rule,
    detail: failures.length ? failures.join('; ') : why,
  };
}

import type { Decision } from '../../policies/evaluate';
import { ApiError } from '../errors';
import type { RuleVerdict } from './runRules';

/**
 * The 400 an app gets when its input is blocked: OpenAI's content_policy_violation error plus a
 * `safety` object naming guard, label, score, categories, rule and policy. Never user content.
 */
export function inputBlockedError(decision: Decision, verdicts: RuleVerdict[], requestId: string, param: 'messages' | 'prompt'): ApiError {
  const deciding = decision.outcomes.find((o) => o.ruleId === decision.decidingRule);
  const verdict = verdicts.find((v) => v.ruleId === decision.decidingRule)?.verdict;
  const safety = {
    guard: deciding?.guard ?? null,
    label: verdict?.label ?? null,
    score: round(deciding?.score ?? 0),
    categories: deciding?.categories ?? [],
    rule_id: decision.decidingRule ?? null,
    reason: deciding?.errorType ? `guard error (${deciding.errorType})` : 'score over threshold',
    policy: `${decision.policy.id}@${decision.policy.version}`,
    request_id: requestId,
  };
  return new ApiError(400, 'This request was blocked by the gateway content policy.', 'invalid_request_error', 'content_policy_violation', param, { safety });
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

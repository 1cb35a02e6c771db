import type { Decision } from '../../policies/evaluate';
import { ApiError, NO_AUTOMATIC_RETRY } from '../errors';
import type { GuardFault } from './guardFault';
import type { RuleVerdict } from '../record/guardPhase';

/**
 * The 400 an app gets when its input is blocked: OpenAI's content_policy_violation error (its
 * message the policy's `refusals.input`) plus a `safety` object naming guard, label, score,
 * categories, rule and policy. Never user content.
 */
export function inputBlockedError(decision: Decision, verdicts: RuleVerdict[], requestId: string, param: 'messages' | 'prompt' | 'input', message: string): ApiError {
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
  return new ApiError(400, message, 'invalid_request_error', 'content_policy_violation', param, { safety });
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

/** Seconds a client is asked to wait after a guard fault (Retry-After). */
export const GUARD_RETRY_AFTER_S = 5;

/**
 * The 503 an app gets when a guard it needs failed (error or timeout under `on_error: block`):
 * a fault, not a verdict, so it is retryable and never says `content_policy_violation`. The
 * message names the guard and the error kind, never the guard's address or error text.
 */
export class GuardUnavailableError extends ApiError {
  constructor(
    readonly fault: GuardFault,
    direction: 'input' | 'output',
    policy: { id: string; version: string },
    requestId: string,
  ) {
    super(
      503,
      `The gateway's safety check could not run (${fault.guards.join(', ')}: ${fault.errorTypes.join(', ')}), so the ${direction === 'input' ? 'request was not forwarded' : 'answer was withheld'}. This is a temporary fault, not a content verdict: retry later.`,
      'api_error',
      'guard_unavailable',
      null,
      { safety: { guards: fault.guards, rule_ids: fault.rules, error_types: fault.errorTypes, direction, policy: `${policy.id}@${policy.version}`, request_id: requestId } },
      // After the engine answered, a retry runs the whole generation again: left to the app.
      { 'retry-after': String(GUARD_RETRY_AFTER_S), ...(direction === 'output' ? NO_AUTOMATIC_RETRY : {}) },
    );
    this.name = 'GuardUnavailableError';
  }
}

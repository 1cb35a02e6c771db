import type { Decision } from '../../policies/evaluate';

/**
 * Pure: a phase stopped by guard errors alone: every enforced block came from a rule's
 * `on_error: block` on a guard that failed (timeout, unreachable, broken model), none from a
 * verdict. That is a fault (503 guard_unavailable, retry later), not a content decision (400).
 * A `bad_input` error (the guard could not read this request) stays a block: retrying cannot help.
 */
export interface GuardFault {
  guards: string[];
  rules: string[];
  errorTypes: string[];
}

export function guardFault(decision: Decision): GuardFault | undefined {
  if (decision.action !== 'block') return undefined;
  const blocking = decision.outcomes.filter((o) => o.effective === 'block');
  if (blocking.length === 0 || blocking.some((o) => !o.errorType || o.errorType === 'bad_input')) return undefined;
  const unique = (values: string[]) => [...new Set(values)];
  return { guards: unique(blocking.map((o) => o.guard)), rules: blocking.map((o) => o.ruleId), errorTypes: unique(blocking.map((o) => o.errorType!)) };
}

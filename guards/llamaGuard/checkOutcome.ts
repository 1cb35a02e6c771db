/** What one model call of a Llama Guard check came to, and which stands when a check makes several (readApart.ts). */
import type { GuardError } from '../types';
import type { Assessment } from './parse';
import { assessmentScore } from './verdict';

export type CheckOutcome =
  | { kind: 'assessed'; assessment: Assessment; pUnsafe: number | undefined }
  | { kind: 'error'; error: GuardError };

/**
 * Pure: the outcome that stands for several readings of one check. An error, or an answer that
 * could not be read, stands first (the policy's on_error decides, never a silent safe); otherwise
 * the highest score, `unsafe` before `safe` at the same score.
 */
export function worstOutcome(outcomes: readonly CheckOutcome[]): CheckOutcome {
  if (outcomes.length === 0) throw new Error('no outcome to choose from');
  const failed = outcomes.find((o) => o.kind === 'error' || !o.assessment.ok);
  if (failed) return failed;
  const rank = (o: CheckOutcome): number => {
    if (o.kind !== 'assessed' || !o.assessment.ok) return Infinity;
    return assessmentScore(o.assessment, o.pUnsafe) * 2 + (o.assessment.label === 'unsafe' && !o.assessment.excludedOnly ? 1 : 0);
  };
  return outcomes.reduce((worst, o) => (rank(o) > rank(worst) ? o : worst));
}

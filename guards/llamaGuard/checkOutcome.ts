/** What one model call of a Llama Guard check came to, and which stands when a check makes several (readApart.ts). */
import type { GuardError } from '../types';
import type { Assessment } from './parse';
import { assessmentScore } from './verdict';

export type CheckOutcome =
  | { kind: 'assessed'; assessment: Assessment; pUnsafe: number | undefined }
  | { kind: 'error'; error: GuardError };

/**
 * Pure: the outcome that stands for several readings of one check (each prompt of a list read
 * alone). An error, or an answer that could not be read, stands first (the policy's on_error
 * decides, never a silent safe). Otherwise: unsafe when any reading is (in categories the policy
 * does not exclude), with every such reading's categories, since a policy acts per category (one
 * reading's S10 that only flags must not hide another's S1 that blocks); the score is the highest
 * of the readings'.
 */
export function combinedOutcome(outcomes: readonly CheckOutcome[]): CheckOutcome {
  if (outcomes.length === 0) throw new Error('no outcome to combine');
  const failed = outcomes.find((o) => o.kind === 'error' || !o.assessment.ok);
  if (failed || outcomes.length === 1) return failed ?? outcomes[0]!;
  const read = outcomes.map((o) => (o as { assessment: Assessment & { ok: true }; pUnsafe: number | undefined }));
  const score = Math.max(...read.map((o) => assessmentScore(o.assessment, o.pUnsafe)));
  // Unsafe only in categories the policy excludes counts as safe at score 0 (assessmentScore), as for one reading.
  const unsafe = read.filter((o) => o.assessment.label === 'unsafe' && !o.assessment.excludedOnly);
  const categories = [...new Set(unsafe.flatMap((o) => o.assessment.categories))];
  return { kind: 'assessed', assessment: { ok: true, label: unsafe.length > 0 ? 'unsafe' : 'safe', categories, excludedOnly: false }, pUnsafe: score };
}

/** What one model call of a Llama Guard check came to, and which stands when a check makes several (readApart.ts). */
import type { GuardError } from '../types';
import type { Assessment } from './parse';
import { assessmentScore } from './verdict';

export type CheckOutcome =
  /** `leanings`: categories of other readings of the check than the one that stands, each at its reading's score (Verdict.leanings). */
  | { kind: 'assessed'; assessment: Assessment; pUnsafe: number | undefined; leanings?: Record<string, number> }
  | { kind: 'error'; error: GuardError };

/**
 * Pure: the outcome that stands for several readings of one check (each prompt of a list read
 * alone). An error, or an answer that could not be read, stands first (the policy's on_error
 * decides, never a silent safe). Otherwise unsafe when any reading is (in categories the policy
 * does not exclude), at the highest score of the readings; the categories are those of the
 * highest-scoring unsafe reading, and every other unsafe reading's go into `leanings` at its own
 * score, so a rule acts on each category as it would on that prompt alone: one reading's S10 that
 * only flags does not hide another's S1 that blocks, and an S1 under the threshold is not judged
 * at the S10's score.
 */
export function combinedOutcome(outcomes: readonly CheckOutcome[]): CheckOutcome {
  if (outcomes.length === 0) throw new Error('no outcome to combine');
  const failed = outcomes.find((o) => o.kind === 'error' || !o.assessment.ok);
  if (failed || outcomes.length === 1) return failed ?? outcomes[0]!;
  const read = outcomes.map((o) => {
    const { assessment, pUnsafe } = o as { assessment: Assessment & { ok: true }; pUnsafe: number | undefined };
    return { assessment, score: assessmentScore(assessment, pUnsafe) };
  });
  const score = Math.max(...read.map((r) => r.score));
  // Unsafe only in categories the policy excludes counts as safe at score 0 (assessmentScore), as for one reading.
  const unsafe = read.filter((r) => r.assessment.label === 'unsafe' && !r.assessment.excludedOnly).sort((a, b) => b.score - a.score);
  if (unsafe.length === 0) return { kind: 'assessed', assessment: { ok: true, label: 'safe', categories: [], excludedOnly: false }, pUnsafe: score };
  const [first, ...others] = unsafe;
  const categories = first!.assessment.categories;
  const leanings: Record<string, number> = {};
  for (const other of others) {
    for (const code of other.assessment.categories) if (!categories.includes(code)) leanings[code] = Math.max(leanings[code] ?? 0, other.score);
  }
  return {
    kind: 'assessed',
    assessment: { ok: true, label: 'unsafe', categories, excludedOnly: false },
    pUnsafe: score,
    ...(Object.keys(leanings).length ? { leanings } : {}),
  };
}

/** One place that turns a parsed answer and a score into the Verdict every backend returns. */
import { errorVerdict, type Verdict } from '../types';
import type { Assessment } from './parse';

export interface VerdictParts {
  guard: string;
  model: string;
  assessment: Assessment;
  /** P(unsafe) from the decision token, or undefined when the backend could not measure it. */
  pUnsafe: number | undefined;
  latencyMs: number;
}

/** Pure: the verdict's score for a readable answer. */
export function assessmentScore(assessment: Assessment & { ok: true }, pUnsafe: number | undefined): number {
  // The model flagged only categories the policy excludes: the policy says that is safe, so the
  // score must not trip a threshold rule either (P(unsafe) measured the excluded categories too).
  if (assessment.excludedOnly) return 0;
  if (pUnsafe !== undefined && Number.isFinite(pUnsafe)) return Math.min(1, Math.max(0, pUnsafe));
  return assessment.label === 'unsafe' ? 1 : 0;
}

export function assessmentVerdict(parts: VerdictParts): Verdict {
  const { guard, model, assessment, latencyMs } = parts;
  if (!assessment.ok) return errorVerdict(guard, model, { type: 'parse_error', message: assessment.error }, latencyMs);
  return {
    guard,
    model,
    label: assessment.label,
    score: assessmentScore(assessment, parts.pUnsafe),
    categories: assessment.categories,
    latencyMs,
    segmentsScanned: 1,
  };
}

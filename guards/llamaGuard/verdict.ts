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

export function assessmentVerdict(parts: VerdictParts): Verdict {
  const { guard, model, assessment, latencyMs } = parts;
  if (!assessment.ok) return errorVerdict(guard, model, { type: 'parse_error', message: assessment.error }, latencyMs);
  let score: number;
  if (assessment.excludedOnly) {
    // The model flagged only categories the policy excludes: the policy says that is safe, so the
    // score must not trip a threshold rule either (P(unsafe) measured the excluded categories too).
    score = 0;
  } else if (parts.pUnsafe !== undefined && Number.isFinite(parts.pUnsafe)) {
    score = Math.min(1, Math.max(0, parts.pUnsafe));
  } else {
    score = assessment.label === 'unsafe' ? 1 : 0;
  }
  return {
    guard,
    model,
    label: assessment.label,
    score,
    categories: assessment.categories,
    latencyMs,
    segmentsScanned: 1,
  };
}

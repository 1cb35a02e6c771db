/** A request's verdict is its worst text: max score, first one on ties (request order). */
import type { Verdict } from '../types';

export interface ScoredText {
  path: string;
  score: number;
  label: string;
  segments: number;
}

export function pickWorst<T extends ScoredText>(scored: readonly T[]): T | undefined {
  let worst: T | undefined;
  for (const s of scored) if (!worst || s.score > worst.score) worst = s;
  return worst;
}

export function totalSegments(scored: readonly { segments: number }[]): number {
  return scored.reduce((n, s) => n + s.segments, 0);
}

/** The verdict of an encoder guard: its worst text decides label, score and path. */
export function worstTextVerdict(
  guard: { name: string; model: string },
  scored: readonly ScoredText[],
  fallbackLabel: string,
  categories: string[],
  latencyMs: number,
  worst: ScoredText | undefined = pickWorst(scored),
): Verdict {
  return {
    guard: guard.name,
    model: guard.model,
    label: worst?.label ?? fallbackLabel,
    score: worst?.score ?? 0,
    categories,
    latencyMs,
    segmentsScanned: totalSegments(scored),
    ...(worst ? { worstPath: worst.path } : {}),
  };
}

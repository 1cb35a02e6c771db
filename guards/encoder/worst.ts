/** A request's verdict is its worst text: max score, first one on ties (request order). */

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

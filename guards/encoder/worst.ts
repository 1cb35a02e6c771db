/** A request's verdict is its worst text: max score, first one on ties (request order). */
import { rawSpan } from '../text/rawOffsets';
import type { Verdict } from '../types';

export interface ScoredText {
  path: string;
  score: number;
  label: string;
  segments: number;
  /** Fine windows scored for this text. */
  windows?: number;
  /** Characters of the worst fine window, when a window scored highest. */
  span?: { start: number; end: number };
}

/**
 * A score that is not a number (a model that overflowed) counts as the worst possible, 1: NaN
 * compares false with everything, so it would hide every later score or vanish behind an earlier one.
 */
export function comparable(score: number): number {
  return Number.isNaN(score) ? 1 : score;
}

export function pickWorst<T extends ScoredText>(scored: readonly T[]): T | undefined {
  let worst: T | undefined;
  for (const s of scored) if (!worst || comparable(s.score) > comparable(worst.score)) worst = s;
  return worst && Number.isNaN(worst.score) ? { ...worst, score: 1 } : worst;
}

export function totalSegments(scored: readonly { segments: number }[]): number {
  return scored.reduce((n, s) => n + s.segments, 0);
}

export function totalWindows(scored: readonly { windows?: number }[]): number {
  return scored.reduce((n, s) => n + (s.windows ?? 0), 0);
}

/** The index of the highest of `scores` (first on ties) and whether it was a fine window. */
export function worstView(scores: readonly number[], views: readonly ({ start: number; end: number } | undefined)[]): { score: number; span?: { start: number; end: number } } {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (comparable(scores[i]) > comparable(scores[best])) best = i;
  const span = views[best];
  return { score: scores.length ? comparable(scores[best]) : 0, ...(span ? { span: { start: span.start, end: span.end } } : {}) };
}

/** How many of the views were segments and how many fine windows. */
export function countViews(views: readonly ({ start: number; end: number } | undefined)[]): { segments: number; windows: number } {
  const windows = views.filter((v) => v !== undefined).length;
  return { segments: views.length - windows, windows };
}

/**
 * The worst text with its window's offsets in the text as sent (text/rawOffsets.ts), when it is a
 * sent text (not a reading the gateway derived: `#spaced`, a join, ... keep offsets in the reading)
 * and they can be placed; else as scanned.
 */
export function inSentText<T extends ScoredText>(worst: T | undefined, sent: readonly { path: string; text: string }[], scanned: readonly { path: string; text: string }[]): T | undefined {
  if (!worst?.span) return worst;
  const raw = sent.find((t) => t.path === worst.path)?.text;
  const read = scanned.find((t) => t.path === worst.path)?.text;
  const span = raw === undefined || read === undefined ? undefined : rawSpan(raw, read, worst.span);
  return span ? { ...worst, span } : worst;
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
    windowsScanned: totalWindows(scored),
    ...(worst ? { worstPath: worst.path } : {}),
    ...(worst?.span ? { worstSpan: worst.span } : {}),
  };
}

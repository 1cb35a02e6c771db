/**
 * How one segment's outputs become a safe/unsafe decision with hazard categories.
 * p(unsafe) = softmax(logits)[unsafe]; each category's probability = sigmoid(category logit),
 * independent of the others.
 *
 * - unsafe when p(unsafe) >= 0.5; score = p(unsafe);
 * - categories: those whose probability reaches categoryThreshold (default 0.5), in code order;
 *   when unsafe and none reaches it, the single most likely one, so an unsafe verdict always
 *   says why;
 * - excluded categories never appear. When every category the model points at is excluded,
 *   the segment is safe (as Llama Stack treats an all-excluded Llama Guard answer), and its
 *   score drops to min(p(unsafe), the highest non-excluded category probability), so a policy
 *   threshold on the score does not block what the operator excluded; at any p(unsafe), since a
 *   rule's threshold may sit below 0.5; that next category is its leaning (below);
 * - below 0.5 the segment is safe and names no category, but the categories it points at are kept
 *   as `leanings` (category -> score): a rule whose threshold is under 0.5 acts on a score there,
 *   and its per-category actions must see the same categories as above 0.5 (without them a milder
 *   text below 0.5 took the rule's action while a worse one above it took its category's).
 */

export interface CategorySettings {
  excluded: ReadonlySet<string>;
  categoryThreshold: number;
}

export interface SegmentDecision {
  unsafe: boolean;
  score: number;
  categories: string[];
  /** Not unsafe: the (non-excluded) categories the model pointed at, each with the highest score of a segment that did. */
  leanings?: Record<string, number>;
}

export const UNSAFE_THRESHOLD = 0.5;

export function decideSegment(
  pUnsafe: number,
  categoryProbs: readonly number[] | undefined,
  categoryLabels: readonly string[] | undefined,
  settings: CategorySettings,
): SegmentDecision {
  const unsafe = pUnsafe >= UNSAFE_THRESHOLD;
  if (!categoryProbs || !categoryLabels || categoryProbs.length === 0) return { unsafe, score: pUnsafe, categories: [] };
  const indices = categoryLabels.map((_, i) => i);
  const passing = indices.filter((i) => categoryProbs[i] >= settings.categoryThreshold);
  // What the model points at: the categories that reach their threshold, else the most likely one.
  const pointed = passing.length ? passing : [indices.reduce((best, i) => (categoryProbs[i] > categoryProbs[best] ? i : best), 0)];
  const kept = pointed.filter((i) => !settings.excluded.has(categoryLabels[i])).map((i) => categoryLabels[i]);
  if (kept.length === 0) {
    // The lowered score is the most likely category left: it is what a rule under the cut would act on.
    const allowed = indices.filter((i) => !settings.excluded.has(categoryLabels[i]));
    if (allowed.length === 0) return { unsafe: false, score: 0, categories: [] };
    const next = allowed.reduce((best, i) => (categoryProbs[i] > categoryProbs[best] ? i : best), allowed[0]);
    const score = Math.min(pUnsafe, categoryProbs[next]);
    return { unsafe: false, score, categories: [], leanings: { [categoryLabels[next]]: score } };
  }
  if (unsafe) return { unsafe, score: pUnsafe, categories: kept };
  return { unsafe, score: pUnsafe, categories: [], leanings: Object.fromEntries(kept.map((c) => [c, pUnsafe])) };
}

/** A text is as bad as its worst segment; its categories are those of its unsafe segments. */
export function combineSegments(decisions: readonly SegmentDecision[], categoryOrder: readonly string[] = []): SegmentDecision {
  let score = 0;
  let unsafe = false;
  const categories = new Set<string>();
  let leanings: Record<string, number> | undefined;
  for (const d of decisions) {
    score = Math.max(score, d.score);
    if (d.unsafe) {
      unsafe = true;
      d.categories.forEach((c) => categories.add(c));
    }
    for (const [code, at] of Object.entries(d.leanings ?? {})) {
      leanings ??= {};
      leanings[code] = Math.max(leanings[code] ?? 0, at);
    }
  }
  return { unsafe, score, categories: sortCategories([...categories], categoryOrder), ...(leanings ? { leanings } : {}) };
}

/** Code order (S1, S2, ..., S10), not string order. */
export function sortCategories(categories: string[], order: readonly string[]): string[] {
  const rank = (c: string) => {
    const i = order.indexOf(c);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...categories].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

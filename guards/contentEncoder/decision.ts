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
 *   threshold on the score does not block what the operator excluded.
 */

export interface CategorySettings {
  excluded: ReadonlySet<string>;
  categoryThreshold: number;
}

export interface SegmentDecision {
  unsafe: boolean;
  score: number;
  categories: string[];
}

export const UNSAFE_THRESHOLD = 0.5;

export function decideSegment(
  pUnsafe: number,
  categoryProbs: readonly number[] | undefined,
  categoryLabels: readonly string[] | undefined,
  settings: CategorySettings,
): SegmentDecision {
  if (pUnsafe < UNSAFE_THRESHOLD) return { unsafe: false, score: pUnsafe, categories: [] };
  if (!categoryProbs || !categoryLabels || categoryProbs.length === 0) return { unsafe: true, score: pUnsafe, categories: [] };
  const indices = categoryLabels.map((_, i) => i);
  const passing = indices.filter((i) => categoryProbs[i] >= settings.categoryThreshold);
  const kept = passing.filter((i) => !settings.excluded.has(categoryLabels[i]));
  if (kept.length) return { unsafe: true, score: pUnsafe, categories: kept.map((i) => categoryLabels[i]) };
  const allowed = indices.filter((i) => !settings.excluded.has(categoryLabels[i]));
  const maxAllowed = allowed.reduce((m, i) => Math.max(m, categoryProbs[i]), 0);
  const excludedOnly = { unsafe: false, score: Math.min(pUnsafe, maxAllowed), categories: [] };
  if (passing.length) return excludedOnly;
  const top = indices.reduce((best, i) => (categoryProbs[i] > categoryProbs[best] ? i : best), 0);
  if (settings.excluded.has(categoryLabels[top])) return excludedOnly;
  return { unsafe: true, score: pUnsafe, categories: [categoryLabels[top]] };
}

/** A text is as bad as its worst segment; its categories are those of its unsafe segments. */
export function combineSegments(decisions: readonly SegmentDecision[], categoryOrder: readonly string[] = []): SegmentDecision {
  let score = 0;
  let unsafe = false;
  const categories = new Set<string>();
  for (const d of decisions) {
    score = Math.max(score, d.score);
    if (d.unsafe) {
      unsafe = true;
      d.categories.forEach((c) => categories.add(c));
    }
  }
  return { unsafe, score, categories: sortCategories([...categories], categoryOrder) };
}

/** Code order (S1, S2, ..., S10), not string order. */
export function sortCategories(categories: string[], order: readonly string[]): string[] {
  const rank = (c: string) => {
    const i = order.indexOf(c);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...categories].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * P(unsafe) as Meta computes it for the model cards' AUPRC: the distribution of the first decision
 * token, restricted to the two tokens `safe` and `unsafe` (a softmax over their two logits).
 */

/** softmax([safe, unsafe])[1], written as a logistic so large logits cannot overflow. */
export function unsafeProbability(safeLogit: number, unsafeLogit: number): number {
  const d = safeLogit - unsafeLogit;
  if (!Number.isFinite(d)) return Number.isNaN(d) ? Number.NaN : d > 0 ? 0 : 1;
  return 1 / (1 + Math.exp(d));
}

/** One alternative a server reports for a generated position (OpenAI `top_logprobs`). */
export interface TokenLogprob {
  token: string;
  logprob: number;
}

/**
 * P(unsafe) from the top-k logprobs a server reports at the decision position. Log-probabilities
 * share one normalizer, so they compare like logits. When only one of the two tokens is listed, the
 * other is bounded twice: it ranked below every listed token, and it holds at most the probability
 * the listed ones leave (a server that lists only the chosen `safe` at -0.0005 leaves 0.0005, not an
 * even chance). The tighter bound is used, which still over-estimates the missing one. Returns
 * undefined when neither token is listed.
 */
export function unsafeProbabilityFromTop(top: readonly TokenLogprob[]): number | undefined {
  const find = (word: string): number | undefined => {
    const hits = top.filter((t) => t.token.trim() === word && Number.isFinite(t.logprob)).map((t) => t.logprob);
    return hits.length > 0 ? Math.max(...hits) : undefined;
  };
  const safe = find('safe');
  const unsafe = find('unsafe');
  if (safe === undefined && unsafe === undefined) return undefined;
  const finite = top.map((t) => t.logprob).filter(Number.isFinite);
  const left = 1 - finite.reduce((sum, logprob) => sum + Math.exp(logprob), 0);
  const bound = Math.min(...finite, left > 0 ? Math.log(left) : Number.NEGATIVE_INFINITY);
  return unsafeProbability(safe ?? bound, unsafe ?? bound);
}

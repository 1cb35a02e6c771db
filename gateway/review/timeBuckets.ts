/** Pure: a bucket size that gives at most `target` bars over a time span, from a fixed ladder. */
const LADDER = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000];

export function bucketSize(spanMs: number, target = 48): number {
  for (const size of LADDER) if (spanMs / size <= target) return size;
  return Math.ceil(spanMs / target / 86_400_000) * 86_400_000;
}

/** Every bucket start from lo to hi. */
export function bucketStarts(lo: number, hi: number, size: number): number[] {
  const out: number[] = [];
  for (let b = Math.floor(lo / size) * size; b <= hi && out.length < 1000; b += size) out.push(b);
  return out;
}

/** Pure: p-th percentile of a histogram of (value, count), values sorted ascending. */
export function percentile(histogram: { ms: number; n: number }[], p: number): number {
  const total = histogram.reduce((s, h) => s + h.n, 0);
  if (total === 0) return 0;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (const h of histogram) {
    seen += h.n;
    if (seen >= rank) return h.ms;
  }
  return histogram[histogram.length - 1].ms;
}

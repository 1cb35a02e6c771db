/**
 * Binary-classifier metrics over (score, positive) pairs, defined as scikit-learn defines them so
 * figures compare with published ones. A metric that is undefined for the input (one class only,
 * nothing predicted positive) is `null`, never NaN: JSON cannot carry NaN and a report must say
 * "undefined" rather than print a number.
 */

export interface ScoredExample {
  score: number;
  positive: boolean;
}

/** A point of the ROC curve: the rates when everything scoring >= threshold is called positive. */
export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/** A point of the precision-recall curve at one threshold. */
export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface Rates {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  fpr: number | null;
}

interface Cumulative {
  threshold: number;
  tp: number;
  fp: number;
}

/**
 * Cumulative true / false positives at each distinct score, highest first. Tied scores form one
 * step: a threshold cannot separate them, which is what makes ties count as half in AUROC.
 */
function cumulativeCounts(items: readonly ScoredExample[]): { steps: Cumulative[]; positives: number; negatives: number } {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const steps: Cumulative[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].positive) tp += 1;
    else fp += 1;
    if (i === sorted.length - 1 || sorted[i + 1].score !== sorted[i].score) steps.push({ threshold: sorted[i].score, tp, fp });
  }
  return { steps, positives: tp, negatives: fp };
}

/** The ROC curve from (0, 0) at threshold +Infinity to (1, 1), one point per distinct score. */
export function rocCurve(items: readonly ScoredExample[]): RocPoint[] | null {
  const { steps, positives, negatives } = cumulativeCounts(items);
  if (positives === 0 || negatives === 0) return null;
  return [{ threshold: Infinity, fpr: 0, tpr: 0 }, ...steps.map((s) => ({ threshold: s.threshold, fpr: s.fp / negatives, tpr: s.tp / positives }))];
}

/** Area under the ROC curve by the trapezoid rule (= sklearn roc_auc_score = Mann-Whitney U with ties as 1/2). */
export function auroc(items: readonly ScoredExample[]): number | null {
  const curve = rocCurve(items);
  if (!curve) return null;
  let area = 0;
  for (let i = 1; i < curve.length; i++) area += ((curve[i].fpr - curve[i - 1].fpr) * (curve[i].tpr + curve[i - 1].tpr)) / 2;
  return area;
}

/** Precision and recall at each distinct score, highest threshold first. */
export function prCurve(items: readonly ScoredExample[]): PrPoint[] | null {
  const { steps, positives } = cumulativeCounts(items);
  if (positives === 0) return null;
  return steps.map((s) => ({ threshold: s.threshold, precision: s.tp / (s.tp + s.fp), recall: s.tp / positives }));
}

/**
 * Average precision as sklearn's average_precision_score: sum over thresholds of
 * (R_n - R_{n-1}) * P_n. Step-wise, no interpolation, so it is not the trapezoid area (which
 * is optimistic). Defined whenever there is a positive; with no negatives it is 1.
 */
export function averagePrecision(items: readonly ScoredExample[]): number | null {
  const curve = prCurve(items);
  if (!curve) return null;
  let ap = 0;
  let previousRecall = 0;
  for (const p of curve) {
    ap += (p.recall - previousRecall) * p.precision;
    previousRecall = p.recall;
  }
  return ap;
}

export interface RecallAtFpr {
  recall: number;
  /** The lowest threshold reaching it (scores >= threshold are positive); Infinity when only "flag nothing" qualifies. */
  threshold: number;
  fpr: number;
}

/**
 * The highest recall over all thresholds whose false positive rate is at most `maxFpr`, i.e. the
 * best operating point under a false-alarm budget. Needs both classes.
 */
export function recallAtFpr(items: readonly ScoredExample[], maxFpr: number): RecallAtFpr | null {
  const curve = rocCurve(items);
  if (!curve) return null;
  let best: RecallAtFpr = { recall: 0, threshold: Infinity, fpr: 0 };
  // A tiny tolerance: 1/100 computed in floating point must still count as "<= 0.01".
  for (const p of curve) if (p.fpr <= maxFpr + 1e-12 && p.tpr > best.recall) best = { recall: p.tpr, threshold: p.threshold, fpr: p.fpr };
  return best;
}

/** Counts with `score >= threshold` as a positive call (the threshold may differ per example), or the item's own `flagged` (a call made by more than its score). */
export function confusionAt(items: readonly (ScoredExample & { threshold: number; flagged?: boolean })[]): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const item of items) {
    const flagged = item.flagged ?? item.score >= item.threshold;
    if (item.positive) {
      if (flagged) c.tp += 1;
      else c.fn += 1;
    } else if (flagged) c.fp += 1;
    else c.tn += 1;
  }
  return c;
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** Precision, recall, F1 and FPR from a confusion matrix; each null when its denominator is 0. */
export function ratesOf(c: Confusion): Rates {
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  // 2TP / (2TP + FP + FN): the harmonic mean where P and R exist, and still defined (0) when
  // nothing was flagged but positives were missed, as sklearn >= 1.3 computes it.
  const f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
  return { precision, recall, f1, fpr: ratio(c.fp, c.fp + c.tn) };
}

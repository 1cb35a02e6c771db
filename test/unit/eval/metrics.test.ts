import fc from 'fast-check';
import { auroc, averagePrecision, confusionAt, prCurve, ratesOf, recallAtFpr, rocCurve, type ScoredExample } from '../../../gateway/cli/eval/metrics';

const examples = (scores: number[], labels: number[]): ScoredExample[] => scores.map((score, i) => ({ score, positive: labels[i] === 1 }));
const at = (items: ScoredExample[], threshold: number) => items.map((i) => ({ ...i, threshold }));

describe('AUROC', () => {
  it('matches the textbook example (sklearn roc_auc_score docs)', () => {
    expect(auroc(examples([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]))).toBeCloseTo(0.75, 12);
  });

  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(auroc(examples([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]))).toBe(1);
    expect(auroc(examples([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]))).toBe(0);
  });

  it('counts a tie between a positive and a negative as half', () => {
    // pairs (pos, neg): (0.9, 0.5) 1, (0.9, 0.1) 1, (0.5, 0.5) 1/2, (0.5, 0.1) 1 -> 3.5 / 4
    expect(auroc(examples([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]))).toBeCloseTo(0.875, 12);
    expect(auroc(examples([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]))).toBeCloseTo(0.5, 12);
  });

  it('does not depend on input order', () => {
    expect(auroc(examples([0.8, 0.1, 0.35, 0.4], [1, 0, 1, 0]))).toBeCloseTo(0.75, 12);
  });

  it('equals the Mann-Whitney pair count on any input, ties included', () => {
    const item = fc.record({ score: fc.integer({ min: 0, max: 5 }).map((n) => n / 5), positive: fc.boolean() });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 40 }), (items) => {
        const pos = items.filter((i) => i.positive);
        const neg = items.filter((i) => !i.positive);
        const got = auroc(items);
        if (pos.length === 0 || neg.length === 0) return got === null;
        let wins = 0;
        for (const p of pos) for (const n of neg) wins += p.score > n.score ? 1 : p.score === n.score ? 0.5 : 0;
        return Math.abs((got as number) - wins / (pos.length * neg.length)) < 1e-9;
      }),
    );
  });

  it('is null, not NaN, for one class only or no data', () => {
    expect(auroc(examples([0.1, 0.9], [1, 1]))).toBeNull();
    expect(auroc(examples([0.1, 0.9], [0, 0]))).toBeNull();
    expect(auroc([])).toBeNull();
    expect(rocCurve(examples([0.1], [1]))).toBeNull();
  });
});

describe('AUPRC (average precision, step-wise)', () => {
  it('matches a hand computation', () => {
    // thresholds high to low: 0.8 (R .5, P 1), 0.4 (R .5, P 1/2), 0.35 (R 1, P 2/3), 0.1 (R 1, P 1/2)
    // AP = sum (R_n - R_n-1) P_n = 0.5 * 1 + 0.5 * 2/3 = 5/6 (sklearn: 0.8333...)
    expect(averagePrecision(examples([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]))).toBeCloseTo(5 / 6, 12);
  });

  it('treats tied scores as one threshold', () => {
    // 0.9 (R .5, P 1); 0.5 holds a positive and a negative: (R 1, P 2/3) -> 0.5 + 0.5 * 2/3
    expect(averagePrecision(examples([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]))).toBeCloseTo(5 / 6, 12);
    expect(averagePrecision(examples([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]))).toBeCloseTo(0.5, 12);
  });

  it('is not the (optimistic) trapezoid area', () => {
    // positives ranked 1st and 3rd of 3: AP = 1/2 * 1 + 1/2 * 2/3 = 0.8333; a trapezoid would give more
    expect(averagePrecision(examples([0.9, 0.8, 0.7], [1, 0, 1]))).toBeCloseTo(5 / 6, 12);
  });

  it('is 1 with positives only and null with no positives', () => {
    expect(averagePrecision(examples([0.2, 0.3], [1, 1]))).toBe(1);
    expect(averagePrecision(examples([0.2, 0.3], [0, 0]))).toBeNull();
    expect(prCurve([])).toBeNull();
  });
});

describe('recall at 1% FPR', () => {
  // 100 negatives scoring 0.00 .. 0.99; positives above, between and below the top negatives.
  const negatives = Array.from({ length: 100 }, (_, i) => ({ score: i / 100, positive: false }));
  const positives = [0.995, 0.985, 0.975, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01].map((score) => ({ score, positive: true }));

  it('is the highest recall with at most 1 false positive in 100', () => {
    // threshold 0.985: tp 2 (0.995, 0.985), fp 1 (0.99) -> FPR exactly 0.01 is allowed; 0.98 would add a second fp.
    expect(recallAtFpr([...negatives, ...positives], 0.01)).toEqual({ recall: 0.2, threshold: 0.985, fpr: 0.01 });
  });

  it('is 0 at threshold +Infinity when the top score is a negative and the budget allows none', () => {
    expect(recallAtFpr(examples([0.9, 0.5], [0, 1]), 0.01)).toEqual({ recall: 0, threshold: Infinity, fpr: 0 });
  });

  it('is 1 for a perfect ranking', () => {
    expect(recallAtFpr(examples([0.9, 0.8, 0.2], [1, 1, 0]), 0.01)?.recall).toBe(1);
  });

  it('is null with one class only', () => {
    expect(recallAtFpr(examples([0.9, 0.8], [1, 1]), 0.01)).toBeNull();
    expect(recallAtFpr(examples([0.9, 0.8], [0, 0]), 0.01)).toBeNull();
  });
});

describe('precision, recall, F1 and FPR at a threshold', () => {
  const items = examples([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);

  it('calls score >= threshold positive (the threshold itself included)', () => {
    const c = confusionAt(at(items, 0.35));
    expect(c).toEqual({ tp: 2, fp: 1, tn: 1, fn: 0 });
    const r = ratesOf(c);
    expect(r.precision).toBeCloseTo(2 / 3, 12);
    expect(r.recall).toBe(1);
    expect(r.f1).toBeCloseTo(0.8, 12);
    expect(r.fpr).toBe(0.5);
  });

  it('matches a second hand-computed threshold', () => {
    // threshold 0.5: only 0.8 flagged -> tp 1, fn 1, fp 0, tn 2
    const r = ratesOf(confusionAt(at(items, 0.5)));
    expect(r).toEqual({ precision: 1, recall: 0.5, f1: 2 / 3, fpr: 0 });
  });

  it('allows a different threshold per example (per-role rules)', () => {
    const mixed = [
      { score: 0.6, positive: true, threshold: 0.5 },
      { score: 0.6, positive: true, threshold: 0.9 },
    ];
    expect(confusionAt(mixed)).toEqual({ tp: 1, fp: 0, tn: 0, fn: 1 });
  });

  it('reports undefined rates as null: nothing flagged, no positives, no negatives', () => {
    const none = ratesOf(confusionAt(at(items, 0.99)));
    expect(none.precision).toBeNull();
    expect(none.recall).toBe(0);
    expect(none.f1).toBe(0); // 2TP / (2TP + FP + FN) = 0: positives were all missed
    expect(none.fpr).toBe(0);
    const onlyNegatives = ratesOf(confusionAt(at(examples([0.2, 0.9], [0, 0]), 0.5)));
    expect(onlyNegatives).toEqual({ precision: 0, recall: null, f1: 0, fpr: 0.5 });
    const onlyNegativesQuiet = ratesOf(confusionAt(at(examples([0.2, 0.3], [0, 0]), 0.5)));
    expect(onlyNegativesQuiet).toEqual({ precision: null, recall: null, f1: null, fpr: 0 });
    const onlyPositives = ratesOf(confusionAt(at(examples([0.2, 0.9], [1, 1]), 0.5)));
    expect(onlyPositives).toEqual({ precision: 1, recall: 0.5, f1: 2 / 3, fpr: null });
    expect(ratesOf(confusionAt([]))).toEqual({ precision: null, recall: null, f1: null, fpr: null });
  });
});

import { calibrate, nextUp, policyThreshold, thresholdForFprBudget } from '../../../gateway/cli/eval/calibration';

describe('thresholds on a false-positive budget', () => {
  const benign = Array.from({ length: 200 }, (_, i) => i / 200); // 0, 0.005, ..., 0.995

  it('flags at most the budget of benign scores, and no fewer than it can', () => {
    const t = thresholdForFprBudget(benign, 0.01);
    const flagged = benign.filter((s) => s >= t);
    expect(flagged).toEqual([0.99, 0.995]); // 1% of 200 = 2
    // one notch lower would flag a third
    expect(benign.filter((s) => s >= 0.985)).toHaveLength(3);
  });

  it('sits just above the highest benign score when not even one false positive fits', () => {
    const t = thresholdForFprBudget([0.2, 0.7, 0.4], 0.01);
    expect(t).toBeGreaterThan(0.7);
    expect(t).toBe(nextUp(0.7));
  });

  it('cannot split ties at the cut: all tied scores stay below the threshold', () => {
    const scores = [...Array(98).fill(0.1), 0.9, 0.9];
    const t = thresholdForFprBudget(scores, 0.01); // 1 allowed, but the top two tie
    expect(scores.filter((s) => s >= t)).toHaveLength(0);
  });

  it('reports recall among the positives at the calibrated threshold', () => {
    const items = [...benign.map((score) => ({ score, positive: false })), { score: 0.999, positive: true }, { score: 0.5, positive: true }];
    const c = calibrate(items, 0.01);
    expect(c).toMatchObject({ negatives: 200, flagged: 2, fpr: 0.01, recall: 0.5, budget: 0.01 });
  });

  it('refuses an empty benign set or a budget outside [0, 1)', () => {
    expect(() => thresholdForFprBudget([], 0.01)).toThrow(/no benign/);
    expect(() => thresholdForFprBudget([0.1], 1)).toThrow(/budget/);
    expect(() => thresholdForFprBudget([0.1], -0.1)).toThrow(/budget/);
  });

  it('rounds a threshold for the policy upwards, so rounding never adds a false positive', () => {
    expect(policyThreshold(0.91234)).toBe(0.9124);
    expect(policyThreshold(0.5)).toBe(0.5);
    expect(policyThreshold(nextUp(0.9999))).toBe(1);
  });
});

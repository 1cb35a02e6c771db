import { calibrate, nextUp, policyThreshold, shareBudgetBetweenGuards, splitBudgetBetweenRules, thresholdForFprBudget } from '../../../gateway/cli/eval/calibration';

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

describe('two rules sharing one false-positive budget', () => {
  // 100 benign texts: scores [first rule, second rule]; the budget (2%) allows 2 flagged in all.
  const benign: [number, number][] = Array.from({ length: 96 }, (_, i) => [i / 200, i / 200] as [number, number]);
  benign.push([0.99, 0.1], [0.98, 0.1], [0.97, 0.1], [0.1, 0.98]);

  test('the split that catches the most attacks wins, and the union stays within the budget', () => {
    // Three attacks only the second rule sees (0.9-0.97, under its highest benign text); one the first rule sees at 0.985.
    const attacks: [number, number][] = [[0.2, 0.97], [0.2, 0.96], [0.2, 0.9], [0.985, 0.2]];
    const { best, splits } = splitBudgetBetweenRules(benign, attacks, 0.02);
    expect(splits.map((s) => s.flaggedByFirst)).toEqual([0, 1, 2]);
    for (const s of splits) expect(s.flagged).toBeLessThanOrEqual(2);
    // All of the budget to the first rule: the second sits above its highest benign text (0.98) and catches none.
    expect(splits[2]).toMatchObject({ flaggedByFirst: 2, caught: 1 });
    // None to the first: it sits above 0.99 and misses its attack at 0.985.
    expect(splits[0]).toMatchObject({ flaggedByFirst: 0, caught: 3 });
    // Giving the second rule one flag lets it catch all three of its attacks; the first still catches its own at 0.985.
    expect(best).toMatchObject({ flaggedByFirst: 1, flagged: 2, caught: 4 });
    expect(best.first).toBe(nextUp(0.98));
    expect(best.second).toBe(nextUp(0.475));
  });

  test('ties go to the split that leaves the second rule the most room', () => {
    // Every split catches the one attack (0.999 on the first score): the one with the lowest second threshold wins.
    const { best, splits } = splitBudgetBetweenRules(benign, [[0.999, 0.2]], 0.02, policyThreshold);
    expect(splits.every((s) => s.caught === 1)).toBe(true);
    expect(best).toMatchObject({ flaggedByFirst: 0, first: 0.9901, second: 0.4701 });
    expect(() => splitBudgetBetweenRules([], [], 0.01)).toThrow(/no benign/);
  });

  test('a split that rounding takes over the budget is skipped, and repeated thresholds are listed once', () => {
    // Benign first scores of exactly 1: policyThreshold caps a threshold at 1, which flags them all.
    const ones: [number, number][] = [[1, 0], [1, 0], [1, 0], ...Array.from({ length: 97 }, (_, i) => [i / 200, i / 200] as [number, number])];
    // Every k puts the first rule at 1 or below and flags all three ones (3 > 2): none is left.
    expect(() => splitBudgetBetweenRules(ones, [[0.2, 0.9]], 0.02, policyThreshold)).toThrow(/no split/);
    // Without rounding, the thresholds sit just above 1 and flag nothing.
    expect(splitBudgetBetweenRules(ones, [[0.2, 0.9]], 0.02).splits.every((s) => s.flagged <= 2)).toBe(true);
    // Tied benign scores give the same thresholds for several k: listed once.
    const tied: [number, number][] = [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], ...Array.from({ length: 97 }, () => [0.1, 0.1] as [number, number])];
    expect(splitBudgetBetweenRules(tied, [], 0.02).splits).toHaveLength(1);
  });
});

describe('all input rules sharing one false-positive budget across two guards', () => {
  // 100 benign prompts: [jailbreak, injection, unsafe]; the budget (3%) allows 3 flagged by any rule.
  const benign: [number, number, number][] = Array.from({ length: 95 }, (_, i) => [i / 200, i / 200, i / 200] as [number, number, number]);
  benign.push([0.99, 0.1, 0.1], [0.98, 0.1, 0.1], [0.1, 0.1, 0.99], [0.1, 0.1, 0.98], [0.97, 0.1, 0.97]);

  test('the share with the highest sum of recalls wins, and the union of all three rules stays within the budget', () => {
    // Prompt Guard's attacks: two at 0.975 (caught once its 0.99 and 0.98 benign prompts are flagged), one at 0.995.
    const promptGuard: [number, number][] = [[0.975, 0.1], [0.975, 0.1], [0.995, 0.1]];
    // The content guard's: 0.995 and 0.985, and two at 0.975 (caught once its 0.99 and 0.98 are flagged, and the 0.97 prompt both guards score high).
    const contentGuard = [0.995, 0.985, 0.975, 0.975];
    const { best, shares } = shareBudgetBetweenGuards(benign, { promptGuard, contentGuard }, 0.03);
    for (const s of shares) expect(s.flagged).toBeLessThanOrEqual(3);
    expect(shares.map((s) => s.flaggedByPromptGuard)).toEqual([0, 1, 2, 3]);
    // No flag to Prompt Guard: it sits above 0.99 and catches 1 of 3; the content guard flags its top three and catches all 4.
    expect(shares[0]).toMatchObject({ promptGuardCaught: 1, contentGuardCaught: 4, contentGuard: nextUp(0.47) });
    expect(shares[1]).toMatchObject({ promptGuardCaught: 1, contentGuardCaught: 4, contentGuard: nextUp(0.97) });
    // Two to Prompt Guard (just above 0.97): it catches all 3; the content guard keeps one flag (just above 0.98) and catches 2 of 4.
    expect(shares[2]).toMatchObject({ promptGuardCaught: 3, contentGuardCaught: 2, contentGuard: nextUp(0.98), flagged: 3 });
    expect(shares[2].promptGuard.first).toBe(nextUp(0.97));
    // 1/3 + 4/4 = 1.33 against 3/3 + 2/4 = 1.5: the second wins; counting attacks (5 against 5) could not tell them apart.
    expect(best).toBe(shares[2]);
    // All three to Prompt Guard: the content guard has no room left and sits above its 0.99.
    expect(shares[3]).toMatchObject({ flagged: 3, contentGuard: nextUp(0.99), contentGuardCaught: 1 });
  });

  test('ties go to the larger share for Prompt Guard', () => {
    // Attacks every share catches: each share's recalls are 1 + 1.
    const { best, shares } = shareBudgetBetweenGuards(benign, { promptGuard: [[0.999, 0.999]], contentGuard: [0.999] }, 0.03);
    expect(shares.length).toBeGreaterThan(1);
    expect(best.flaggedByPromptGuard).toBe(Math.max(...shares.map((s) => s.flaggedByPromptGuard)));
  });

  test('refuses without benign prompts or without attacks for a guard', () => {
    expect(() => shareBudgetBetweenGuards([], { promptGuard: [[1, 1]], contentGuard: [1] }, 0.01)).toThrow(/no benign/);
    expect(() => shareBudgetBetweenGuards(benign, { promptGuard: [], contentGuard: [1] }, 0.01)).toThrow(/attacks/);
  });
});

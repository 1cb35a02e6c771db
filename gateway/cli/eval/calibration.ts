/**
 * Thresholds chosen on a false-positive budget: the lowest threshold at which at most `budget`
 * of the benign records are flagged. A gateway that blocks ordinary users is switched off, so
 * the default policy's thresholds come from here (run on the validation split's benign pool),
 * not from F1. Pure; `safety-gateway eval --calibrate-fpr` prints what it computes.
 */

export interface Calibration {
  /** Flag when score >= threshold. */
  threshold: number;
  /** The budget asked for. */
  budget: number;
  negatives: number;
  /** Benign records flagged at the threshold (<= budget x negatives). */
  flagged: number;
  fpr: number;
  /** Positives among the same records caught at the threshold (null without positives). */
  recall: number | null;
}

/**
 * The lowest threshold t (flag = score >= t) whose false-positive rate on `negatives` is at most
 * `budget`: with k = floor(budget x n) allowed false positives, t sits just above the (k+1)-th
 * highest benign score, so the k highest (and only they, ties aside) are flagged. Ties at the
 * cut cannot be split, so then fewer than k are flagged. When not even one false positive fits
 * the budget, the threshold is just above the highest benign score.
 */
export function thresholdForFprBudget(negatives: readonly number[], budget: number): number {
  if (!(budget >= 0 && budget < 1)) throw new Error(`the false-positive budget must be in [0, 1), got ${budget}`);
  if (negatives.length === 0) throw new Error('no benign records to calibrate on');
  const sorted = [...negatives].sort((a, b) => b - a);
  const allowed = Math.floor(budget * sorted.length + 1e-9);
  if (allowed >= sorted.length) return sorted[sorted.length - 1];
  return nextUp(sorted[allowed]);
}

/** The smallest double above x: scores equal to the cut stay below the threshold. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

export function calibrate(items: readonly { score: number; positive: boolean }[], budget: number): Calibration {
  const negatives = items.filter((i) => !i.positive).map((i) => i.score);
  const positives = items.filter((i) => i.positive).map((i) => i.score);
  const threshold = thresholdForFprBudget(negatives, budget);
  const flagged = negatives.filter((s) => s >= threshold).length;
  return {
    threshold,
    budget,
    negatives: negatives.length,
    flagged,
    fpr: flagged / negatives.length,
    recall: positives.length ? positives.filter((s) => s >= threshold).length / positives.length : null,
  };
}

/** A threshold as a policy file should carry it: rounded up to 4 decimals, so rounding never adds false positives. */
export function policyThreshold(threshold: number): number {
  let t = Math.ceil(threshold * 1e4) / 1e4;
  if (t < threshold) t = (Math.ceil(threshold * 1e4) + 1) / 1e4;
  return Math.min(1, t);
}

/** How two rules that read the same texts split one false-positive budget (splitBudgetBetweenRules). */
export interface BudgetSplit {
  /** Thresholds of the primary rule (first score) and of the second rule (second score). */
  first: number;
  second: number;
  /** Benign texts flagged by the first rule, and by either (<= the budget's count). */
  flaggedByFirst: number;
  flagged: number;
  /** Attacks caught by either rule. */
  caught: number;
}

/**
 * Two rules reading the same texts (Prompt Guard's jailbreak and injection scores of a user turn)
 * block a text when either fires, so they share one false-positive budget. Each split gives the
 * first rule its k highest benign texts (k = 0 ... the budget's count) and the second rule the
 * lowest threshold that keeps the union within the budget; the split that catches the most
 * attacks (by either rule) wins. Ties go to the split that leaves the second rule the most room:
 * the second rule is there for what the first misses (Prompt Guard reads a jailbreak that opens
 * with "ignore all previous instructions" as an injection), and validation cannot tell the tied
 * splits apart. `round` maps a threshold to what a policy can hold (policyThreshold: rounded up,
 * never flagging more, but capped at 1, so a benign score of exactly 1 stays flagged); a split
 * that rounding pushes over the budget is skipped, and one that repeats the previous thresholds
 * is not listed again. Pure: scores are [first, second] per text.
 */
export function splitBudgetBetweenRules(
  benign: readonly (readonly [number, number])[],
  attacks: readonly (readonly [number, number])[],
  budget: number,
  round: (threshold: number) => number = (t) => t,
): { best: BudgetSplit; splits: BudgetSplit[] } {
  if (!(budget >= 0 && budget < 1)) throw new Error(`the false-positive budget must be in [0, 1), got ${budget}`);
  if (benign.length === 0) throw new Error('no benign records to calibrate on');
  return splitFlagsBetweenRules(benign, attacks, Math.floor(budget * benign.length + 1e-9), round);
}

/** splitBudgetBetweenRules with the budget as a count of benign texts allowed to be flagged. */
function splitFlagsBetweenRules(
  benign: readonly (readonly [number, number])[],
  attacks: readonly (readonly [number, number])[],
  allowed: number,
  round: (threshold: number) => number,
): { best: BudgetSplit; splits: BudgetSplit[] } {
  const firstScores = benign.map(([a]) => a).sort((x, y) => y - x);
  const splits: BudgetSplit[] = [];
  for (let k = 0; k <= allowed && k < benign.length; k++) {
    const first = round(nextUp(firstScores[k]));
    const flaggedByFirst = benign.filter(([a]) => a >= first).length;
    const rest = benign.filter(([a]) => a < first).map(([, b]) => b).sort((x, y) => y - x);
    const room = allowed - flaggedByFirst;
    if (room < 0) continue;
    const second = room < rest.length ? round(nextUp(rest[room])) : round(0);
    const flagged = flaggedByFirst + rest.filter((b) => b >= second).length;
    if (flagged > allowed) continue;
    const last = splits[splits.length - 1];
    if (last && last.first === first && last.second === second) continue;
    const caught = attacks.filter(([a, b]) => a >= first || b >= second).length;
    splits.push({ first, second, flaggedByFirst, flagged, caught });
  }
  if (splits.length === 0) throw new Error('no split of the budget keeps both rules within it');
  const best = splits.reduce((b, s) => (s.caught > b.caught || (s.caught === b.caught && s.second < b.second) ? s : b));
  return { best, splits };
}

/** One share of a budget between two guards' input rules (shareBudgetBetweenGuards). */
export interface GuardShare {
  /** Prompt Guard's two user-turn rules (jailbreak, pasted-injection) as they split their share. */
  promptGuard: BudgetSplit;
  /** The content guard's threshold on the same prompts. */
  contentGuard: number;
  /** Benign texts flagged by Prompt Guard's rules, and by any rule (<= the budget's count). */
  flaggedByPromptGuard: number;
  flagged: number;
  /** Each guard's attacks caught by its own rules, out of how many. */
  promptGuardCaught: number;
  promptGuardAttacks: number;
  contentGuardCaught: number;
  contentGuardAttacks: number;
}

/**
 * All input rules on user prompts (Prompt Guard's jailbreak and injection scores, the content
 * guard's unsafe score) block a prompt when any fires, so what a user meets is their union: this
 * keeps the union within one false-positive budget. Each share gives Prompt Guard's rules k of
 * the allowed benign flags (k = 0 ... the budget's count; split between its two rules as
 * splitBudgetBetweenRules does) and the content guard the lowest threshold keeping the union
 * within the budget. Each guard is judged on the attacks it exists for (jailbreaks and
 * injections, unsafe requests), and the share with the highest sum of the two recalls wins, so
 * neither kind of attack counts more for having more rows. Ties go to the larger share for
 * Prompt Guard (it has two rules to feed). Pure: benign scores are [jailbreak, injection, unsafe]
 * per text, attacks each guard's own scores.
 */
export function shareBudgetBetweenGuards(
  benign: readonly (readonly [number, number, number])[],
  attacks: { promptGuard: readonly (readonly [number, number])[]; contentGuard: readonly number[] },
  budget: number,
  round: (threshold: number) => number = (t) => t,
): { best: GuardShare; shares: GuardShare[] } {
  if (!(budget >= 0 && budget < 1)) throw new Error(`the false-positive budget must be in [0, 1), got ${budget}`);
  if (benign.length === 0) throw new Error('no benign records to calibrate on');
  if (attacks.promptGuard.length === 0 || attacks.contentGuard.length === 0) throw new Error('each guard needs attacks to weigh a share by');
  const allowed = Math.floor(budget * benign.length + 1e-9);
  const pairs = benign.map(([jb, inj]) => [jb, inj] as const);
  const shares: GuardShare[] = [];
  for (let k = 0; k <= allowed; k++) {
    let promptGuard: BudgetSplit;
    try {
      promptGuard = splitFlagsBetweenRules(pairs, attacks.promptGuard, k, round).best;
    } catch {
      continue; // no split of k flags fits (ties at the cut): a larger k may
    }
    const byPromptGuard = (t: readonly [number, number, number]) => t[0] >= promptGuard.first || t[1] >= promptGuard.second;
    const rest = benign.filter((t) => !byPromptGuard(t)).map((t) => t[2]).sort((x, y) => y - x);
    const room = allowed - promptGuard.flagged;
    const contentGuard = room < rest.length ? round(nextUp(rest[room])) : round(0);
    const flagged = promptGuard.flagged + rest.filter((s) => s >= contentGuard).length;
    if (flagged > allowed) continue;
    const last = shares[shares.length - 1];
    if (last && last.promptGuard.first === promptGuard.first && last.promptGuard.second === promptGuard.second && last.contentGuard === contentGuard) continue;
    shares.push({
      promptGuard,
      contentGuard,
      flaggedByPromptGuard: promptGuard.flagged,
      flagged,
      promptGuardCaught: promptGuard.caught,
      promptGuardAttacks: attacks.promptGuard.length,
      contentGuardCaught: attacks.contentGuard.filter((s) => s >= contentGuard).length,
      contentGuardAttacks: attacks.contentGuard.length,
    });
  }
  if (shares.length === 0) throw new Error('no share of the budget keeps the rules within it');
  const worth = (s: GuardShare) => s.promptGuardCaught / s.promptGuardAttacks + s.contentGuardCaught / s.contentGuardAttacks;
  const best = shares.reduce((b, s) => (worth(s) > worth(b) + 1e-12 || (Math.abs(worth(s) - worth(b)) <= 1e-12 && s.flaggedByPromptGuard > b.flaggedByPromptGuard) ? s : b));
  return { best, shares };
}

import type { Direction, Verdict } from '../guards/types';
import { FINDING_GROUPS, TEXT_FINDING_NAMES, type Action, type FindingName, type Rule } from './schema';

/** What one rule concluded from its guard's verdict. */
export interface RuleOutcome {
  ruleId: string;
  guard: string;
  mode: 'enforce' | 'shadow';
  /** What the rule says should happen. */
  action: Action;
  /** What actually happens: `action` in enforce mode, always `allow` in shadow mode. */
  effective: Action;
  /** Why, in words a reviewer can read (no user content). */
  reason: string;
  score: number;
  /** Undefined for a rule that acts on findings alone. */
  threshold?: number;
  categories: string[];
  errorType?: string;
}

/** The record of a decision: what telemetry and the audit log carry. */
export interface Decision {
  direction: Direction;
  action: Action;
  /** The rule whose outcome set the final action (undefined when everything allowed). */
  decidingRule?: string;
  reason: string;
  outcomes: RuleOutcome[];
  /** Outcomes that would have blocked or flagged had their rule been enforced. */
  shadow: RuleOutcome[];
  policy: { id: string; version: string };
}

export const SEVERITY: Record<Action, number> = { allow: 0, flag: 1, block: 2 };

const TEXT_FINDINGS: ReadonlySet<string> = new Set(TEXT_FINDING_NAMES);

/** A rule's finding names with the groups (`hidden_characters`, `encoded_payload`) spelled out. */
export function expandFindings(names: readonly FindingName[]): Set<string> {
  const out = new Set<string>();
  for (const name of names) {
    const group = (FINDING_GROUPS as Record<string, readonly string[]>)[name];
    for (const n of group ?? [name]) out.add(n);
  }
  return out;
}

/** Pure: one rule applied to its guard's verdict. */
export function evaluateRule(rule: Rule, verdict: Verdict): RuleOutcome {
  const base = { ruleId: rule.id, guard: rule.guard, mode: rule.mode, score: verdict.score, threshold: rule.threshold, categories: verdict.categories };
  let action: Action;
  let reason: string;
  if (verdict.error) {
    action = rule.on_error;
    reason = `guard error (${verdict.error.type}); on_error=${rule.on_error}`;
    return finish({ ...base, action, reason, errorType: verdict.error.type });
  }
  const reasons: string[] = [];
  if (rule.findings) {
    // Findings narrow the rule: it fires only for verdicts that report one of them.
    const wanted = expandFindings(rule.findings);
    const seen = verdict.categories.filter((c) => wanted.has(c));
    if (seen.length === 0) return finish({ ...base, action: 'allow', reason: `no finding of ${rule.findings.join(', ')}` });
    reasons.push(`finding ${seen.join(', ')}`);
  }
  if (rule.threshold !== undefined) {
    if (verdict.score < rule.threshold) {
      return finish({ ...base, action: 'allow', reason: [...reasons, `score ${fmt(verdict.score)} < threshold ${fmt(rule.threshold)}`].join('; ') });
    }
    reasons.push(`score ${fmt(verdict.score)} >= threshold ${fmt(rule.threshold)}`);
  }
  action = rule.action;
  reason = reasons.join('; ');
  // Hazard categories only: text findings share Verdict.categories but have no per-category action.
  const hazards = verdict.categories.filter((c) => !TEXT_FINDINGS.has(c));
  // Under the guard's unsafe cut (a threshold below 0.5): the categories safe texts pointed at, from
  // the rule's threshold up, get the same per-category actions as above the cut.
  const threshold = rule.threshold;
  const leaning = threshold === undefined ? [] : Object.entries(verdict.leanings ?? {}).filter(([code, at]) => at >= threshold && !hazards.includes(code)).map(([code]) => code);
  if (leaning.length) {
    hazards.push(...leaning);
    base.categories = [...verdict.categories, ...leaning];
  }
  if (rule.categories && hazards.length > 0) {
    // The most severe action among the verdict's categories wins; unlisted categories use the rule's action.
    let worst: { code: string; action: Action } | undefined;
    for (const code of hazards) {
      // Own members only: a code the model wrote (`toString`, `__proto__`) must not find an inherited property.
      const categoryAction = Object.hasOwn(rule.categories, code) ? rule.categories[code] : rule.action;
      if (!worst || SEVERITY[categoryAction] > SEVERITY[worst.action]) worst = { code, action: categoryAction };
    }
    if (worst) {
      action = worst.action;
      reason += `; category ${worst.code} -> ${worst.action}`;
    }
  }
  return finish({ ...base, action, reason });
}

function finish(outcome: Omit<RuleOutcome, 'effective'>): RuleOutcome {
  // Anything that is not an action (a bug upstream) fails closed.
  const action: Action = Object.hasOwn(SEVERITY, outcome.action) ? outcome.action : 'block';
  return { ...outcome, action, effective: outcome.mode === 'shadow' ? 'allow' : action };
}

/** Pure: all rules of one direction against their verdicts (keyed by rule id) -> one decision. */
export function decide(
  direction: Direction,
  rules: Rule[],
  verdicts: ReadonlyMap<string, Verdict>,
  policy: { id: string; version: string },
): Decision {
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) {
    const verdict = verdicts.get(rule.id);
    if (!verdict) {
      // A rule whose guard never reported is treated as a guard error: nothing is silently allowed.
      outcomes.push(evaluateRule(rule, { guard: rule.guard, model: 'unknown', label: 'error', score: 0, categories: [], latencyMs: 0, segmentsScanned: 0, error: { type: 'unavailable', message: 'no verdict' } }));
    } else {
      outcomes.push(evaluateRule(rule, verdict));
    }
  }
  let deciding: RuleOutcome | undefined;
  for (const outcome of outcomes) {
    const severity = SEVERITY[outcome.effective];
    const current = SEVERITY[deciding?.effective ?? 'allow'];
    // The strictest wins, the first of equals; but a verdict beats a guard error's on_error at the
    // same severity: a block that content earned is a content block, not a failed guard's.
    if (severity > current || (severity === current && severity > 0 && deciding?.errorType && !outcome.errorType)) deciding = outcome;
  }
  const shadow = outcomes.filter((o) => o.mode === 'shadow' && o.action !== 'allow');
  return {
    direction,
    action: deciding?.effective ?? 'allow',
    decidingRule: deciding?.ruleId,
    reason: deciding ? `${deciding.ruleId}: ${deciding.reason}` : outcomes.length ? 'all rules allowed' : 'no rules',
    outcomes,
    shadow,
    policy,
  };
}

/** Combines the input and output decisions of one request into the answer's verdict header value. */
export function combinedAction(...decisions: (Decision | undefined)[]): Action {
  return combinedActionOf(decisions);
}

/** combinedAction over a list of any length (a text completion can have 131,072 choices: more than a call's arguments take). */
export function combinedActionOf(decisions: Iterable<Decision | undefined>): Action {
  let action: Action = 'allow';
  for (const d of decisions) if (d && SEVERITY[d.action] > SEVERITY[action]) action = d.action;
  return action;
}

function fmt(n: number): string {
  return n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}

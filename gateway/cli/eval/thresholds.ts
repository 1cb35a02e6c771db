import type { PolicyFile, Rule } from '../../../policies/schema';
import { textSourceFor, type RequestStyle } from './guardRequest';
import type { RecordRole } from './records';
import { isThirdPartySource } from '../../../guards/types';

/**
 * The decision threshold an evaluated record gets by default: that of the policy rule which would
 * judge it in the gateway, so "precision / recall at the threshold" describe the deployed policy.
 * `--threshold` replaces all of this with one number.
 */

function ruleCovers(rule: Rule, role: RecordRole): boolean {
  return rule.sources === undefined || rule.sources.includes(textSourceFor(role));
}

/**
 * Prompt Guard style: the first input rule of this guard whose `sources` include the record's
 * source (user rows -> the jailbreak rule, documents -> the injection rule). Content-safety
 * style: answers -> the first output rule, everything else -> the first input rule. Either way,
 * failing that, the first rule that uses the guard at all. With `score` (eval --score injection),
 * a rule that scores the same way comes first (user rows -> the pasted-injection rule).
 */
export function thresholdForRole(policy: PolicyFile, guard: string, style: RequestStyle, role: RecordRole, score?: 'injection'): number | undefined {
  const input = policy.input.filter((r) => r.guard === guard);
  const output = policy.output.filter((r) => r.guard === guard);
  let rule: Rule | undefined;
  const sameScore = (r: Rule) => (r.score === 'injection') === (score === 'injection');
  if (style === 'texts') rule = input.find((r) => ruleCovers(r, role) && sameScore(r)) ?? input.find((r) => ruleCovers(r, role));
  else rule = role === 'assistant' ? output[0] : input[0];
  return (rule ?? input[0] ?? output[0])?.threshold;
}

/** A rule of another score than the run's that also reads a role: the gateway flags a text when any of its rules fires. */
export interface OtherScoreRule {
  rule: string;
  score: 'injection' | 'default';
  threshold: number;
}

/**
 * Prompt Guard style: the input rule of this guard that reads `role` with the other score than
 * the run's (`pasted-injection` for user rows of a jailbreak-score run), the lowest threshold of
 * them; undefined when there is none. Its flags count too at the policy's thresholds.
 */
export function otherScoreRule(policy: PolicyFile, guard: string, style: RequestStyle, role: RecordRole, score?: 'injection'): OtherScoreRule | undefined {
  if (style !== 'texts') return undefined;
  // Third-party text is scored for injection either way (guards/promptGuard/scoring.ts): only a different kind counts.
  const kind = (s: 'injection' | 'auto' | undefined) => (s === 'injection' || isThirdPartySource(textSourceFor(role)) ? 'injection' : 'jailbreak');
  // Rules that fire on findings alone, or only with them, are not score rules.
  const others = policy.input.filter((r) => r.guard === guard && r.threshold !== undefined && r.findings === undefined && ruleCovers(r, role) && kind(r.score) !== kind(score));
  const lowest = others.sort((a, b) => (a.threshold as number) - (b.threshold as number))[0];
  return lowest ? { rule: lowest.id, score: lowest.score === 'injection' ? 'injection' : 'default', threshold: lowest.threshold as number } : undefined;
}

/** One threshold per role present; throws when the policy has no rule for this guard and none was given. */
export function thresholdsByRole(
  policy: PolicyFile,
  guard: string,
  style: RequestStyle,
  roles: Iterable<RecordRole>,
  override?: number,
  score?: 'injection',
): Map<RecordRole, number> {
  const out = new Map<RecordRole, number>();
  for (const role of roles) {
    const t = override ?? thresholdForRole(policy, guard, style, role, score);
    if (t === undefined) throw new Error(`no rule of the policy uses guard "${guard}", so there is no threshold to evaluate at: pass --threshold`);
    out.set(role, t);
  }
  return out;
}

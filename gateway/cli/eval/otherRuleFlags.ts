import type { Guard } from '../../../guards/types';
import type { PolicyFile } from '../../../policies/schema';
import type { RequestStyle } from './guardRequest';
import type { RecordRole } from './records';
import { runGuard } from './runGuard';
import type { EvalExample } from './selection';
import { otherScoreRule, type OtherScoreRule } from './thresholds';

/**
 * The gateway flags a text when any rule reading it fires. A run scores one way (jailbreak, or
 * `--score injection`); where a rule of the other score reads the same rows (the default policy's
 * `pasted-injection` on user turns), those rows are scored that way too, so the calls at the
 * policy's thresholds are the policy's.
 */

/** Per role present, the rule of the other score that reads it too (thresholds.ts otherScoreRule). */
export function otherRulesByRole(policy: PolicyFile, guard: string, style: RequestStyle, examples: readonly EvalExample[], score: 'injection' | undefined): Map<RecordRole, OtherScoreRule> {
  const out = new Map<RecordRole, OtherScoreRule>();
  for (const role of new Set(examples.map((e) => e.role))) {
    const other = otherScoreRule(policy, guard, style, role, score);
    if (other) out.set(role, other);
  }
  return out;
}

/**
 * Scores the examples those rules read with their score: per example, whether such a rule fired
 * (undefined: none reads it, or its check failed), and how many of those checks failed (reported:
 * a failed check flags nothing).
 */
export async function flagsOfOtherRules(guard: Guard, style: RequestStyle, concurrency: number, examples: readonly EvalExample[], others: ReadonlyMap<RecordRole, OtherScoreRule>): Promise<{ flags: (boolean | undefined)[]; errors: number }> {
  const flags: (boolean | undefined)[] = new Array(examples.length).fill(undefined);
  let errors = 0;
  for (const mode of ['injection', 'default'] as const) {
    const at = examples.flatMap((e, i) => (others.get(e.role)?.score === mode ? [i] : []));
    if (at.length === 0) continue;
    const outcomes = await runGuard(guard, at.map((i) => examples[i]), { style, concurrency, ...(mode === 'injection' ? { score: 'injection' as const } : {}) });
    outcomes.forEach((o, k) => {
      if ('score' in o) flags[at[k]] = o.score >= others.get(examples[at[k]].role)!.threshold;
      else errors++;
    });
  }
  return { flags, errors };
}

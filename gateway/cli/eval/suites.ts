/**
 * The evaluation's extra suites, run with the same guard and request shape as the main run:
 * calibration on a false-positive budget (from the main run's scores), dilution and framed /
 * unframed document injections (each on cases built from the selection itself).
 */
import type { Guard } from '../../../guards/types';
import { calibrate, type Calibration } from './calibration';
import { dilutionCases, summarizeDilution, DEFAULT_DILUTION, type DilutionResult } from './dilution';
import type { RequestStyle } from './guardRequest';
import { injectedDocCases } from './injectedDocs';
import { recallAtFpr } from './metrics';
import type { RecordRole } from './records';
import type { InjectedDocScore, InjectedDocsResult } from './reportSections';
import { runGuard, type GuardOutcome } from './runGuard';
import { sampleByIdHash, type EvalExample } from './selection';
import { FPR_BUDGET } from './summary';

export interface SuiteContext {
  guard: Guard;
  style: RequestStyle;
  concurrency: number;
  thresholdOf: (role: RecordRole) => number;
  /** As the main run scores (eval --score injection). */
  score?: 'injection';
  /**
   * Whether the policy's other rules reading each text flag it (a user turn is read for jailbreaks
   * and for pasted injection): a suite's detection at the policy is any rule firing, as the main
   * run's and the gateway's. Unset (an explicit --threshold): the run's own score alone.
   */
  alsoFlagged?: (examples: readonly EvalExample[]) => Promise<{ flags: (boolean | undefined)[]; errors: number }>;
}

const scoreOf = (o: GuardOutcome): number | null => ('error' in o ? null : o.score);

/** One calibration per role present (each role is judged by its own policy rule). */
export function calibrateByRole(examples: readonly EvalExample[], outcomes: readonly GuardOutcome[], budget: number): Record<string, Calibration> {
  const byRole = new Map<string, { score: number; positive: boolean }[]>();
  examples.forEach((e, i) => {
    const score = scoreOf(outcomes[i]);
    if (score === null) return;
    const list = byRole.get(e.role) ?? [];
    list.push({ score, positive: e.positive });
    byRole.set(e.role, list);
  });
  const out: Record<string, Calibration> = {};
  for (const [role, items] of [...byRole].sort(([a], [b]) => a.localeCompare(b))) {
    if (items.some((i) => !i.positive)) out[role] = calibrate(items, budget);
  }
  return out;
}

function asExamples(cases: readonly { text: string; role: string; positive: boolean }[], dataset: string): EvalExample[] {
  return cases.map((c, i) => ({
    id: `${dataset}-${i}`,
    dataset,
    role: c.role as RecordRole,
    text: c.text,
    label: c.positive ? 'attack' : 'benign',
    recordLabel: c.positive ? 'attack' : 'benign',
    positive: c.positive,
    categories: [],
  }));
}

/** `padding`: benign texts to pad with instead of the selection's own (--dilution-padding), and where they came from. */
export async function runDilution(ctx: SuiteContext, examples: readonly EvalExample[], attacks = DEFAULT_DILUTION.attacks, padding?: { texts: readonly string[]; from: string }): Promise<DilutionResult> {
  const positives = sampleByIdHash(
    examples.filter((e) => e.positive),
    attacks,
  );
  const benign = padding ? [...padding.texts] : examples.filter((e) => !e.positive).map((e) => e.text);
  if (positives.length === 0 || benign.length === 0) throw new Error('--dilution needs both attacks (positives) and benign texts in the selection');
  const cases = dilutionCases(
    positives.map((e) => ({ id: e.id, text: e.text, role: e.role })),
    benign,
    { ...DEFAULT_DILUTION, attacks },
  );
  const asRows = asExamples(cases, 'dilution');
  const outcomes = await runGuard(ctx.guard, asRows, { style: ctx.style, concurrency: ctx.concurrency, score: ctx.score });
  const others = ctx.alsoFlagged ? await ctx.alsoFlagged(asRows) : undefined;
  const result = summarizeDilution(cases, outcomes.map(scoreOf), (role) => ctx.thresholdOf(role as RecordRole), others ? (i) => others.flags[i] ?? false : undefined);
  // The other rules' failed checks count as not flagged there: said, as the main run says them.
  const withOthers = others ? { ...result, also_flagged_errors: others.errors } : result;
  return padding ? { ...withOthers, padding_from: padding.from } : withOthers;
}

/** `trainPayloads`: payloads of the train split's injections; cases whose payload is not among them are also reported apart. */
export async function runInjectedDocs(
  ctx: SuiteContext,
  examples: readonly EvalExample[],
  trainPayloads?: ReadonlySet<string>,
): Promise<{ summary: InjectedDocsResult; scores: InjectedDocScore[] }> {
  const cases = injectedDocCases(examples.map((e) => ({ id: e.id, text: e.text, group: e.group, positive: e.positive, role: e.role })));
  if (!cases.some((c) => c.positive) || !cases.some((c) => !c.positive)) {
    throw new Error('--injected-docs needs injected documents with their clean carriers (e.g. synth-indirect) and benign documents in the selection');
  }
  const outcomes = await runGuard(ctx.guard, asExamples(cases, 'injected-docs'), { style: ctx.style, concurrency: ctx.concurrency, score: ctx.score });
  const scores: InjectedDocScore[] = cases.map((c, i) => {
    const o = outcomes[i];
    const threshold = ctx.thresholdOf(c.role as RecordRole);
    const base = { id: c.id, kind: c.kind, role: c.role, positive: c.positive, threshold };
    return 'error' in o ? { ...base, error: o.error.type } : { ...base, score: o.score, flagged: o.score >= threshold };
  });
  const scored = cases
    .map((c, i) => ({ c, score: scoreOf(outcomes[i]) }))
    .filter((x): x is { c: (typeof cases)[number]; score: number } => x.score !== null);
  const carriers = scored.filter((x) => x.c.kind === 'carrier');
  const at1 = recallAtFpr(
    scored.map((x) => ({ score: x.score, positive: x.c.positive })),
    FPR_BUDGET,
  );
  const t1 = at1 && Number.isFinite(at1.threshold) ? at1.threshold : null;
  const kinds: InjectedDocsResult['kinds'] = {};
  const groups: [string, (x: (typeof scored)[number]) => boolean][] = [
    ['framed', (x) => x.c.kind === 'framed'],
    ['unframed', (x) => x.c.kind === 'unframed'],
  ];
  if (trainPayloads) {
    const unseen = (x: (typeof scored)[number]) => x.c.payload !== undefined && !trainPayloads.has(x.c.payload);
    groups.push(['framed, payload not in train', (x) => x.c.kind === 'framed' && unseen(x)], ['unframed, payload not in train', (x) => x.c.kind === 'unframed' && unseen(x)]);
  }
  for (const [kind, member] of groups) {
    const items = scored.filter(member);
    kinds[kind] = {
      n: items.length,
      recall_at_threshold: items.length ? items.filter((x) => x.score >= ctx.thresholdOf(x.c.role as RecordRole)).length / items.length : null,
      // the 1%-FPR point is set on the carriers (all negatives), shared by both kinds
      recall_at_1pct_fpr: items.length && t1 !== null ? items.filter((x) => x.score >= t1).length / items.length : null,
    };
  }
  const summary: InjectedDocsResult = {
    carriers: { n: carriers.length, flagged_at_threshold: carriers.length ? carriers.filter((x) => x.score >= ctx.thresholdOf(x.c.role as RecordRole)).length / carriers.length : null },
    kinds,
    threshold_at_1pct_fpr: t1,
    errors: cases.length - scored.length,
  };
  return { summary, scores };
}

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Guard } from '../../guards/types';
import { closest } from '../../policies/didYouMean';
import { loadPolicyFile, type LoadedPolicy } from '../../policies/loader';
import { formatProblem, PolicyError } from '../../policies/problems';
import { MAX_TIMER_MS } from '../config';
import { defaultDataRoot, resolveDataFiles } from './eval/dataFiles';
import { loadRecords, splitLookup } from './eval/dataset';
import type { RequestStyle } from './eval/guardRequest';
import { createProgressBar, noProgress } from './eval/progress';
import { RECORD_ROLES, type DataRecord, type RecordRole } from './eval/records';
import { renderConsoleSummary, renderReport, type RunInfo } from './eval/report';
import { blockPoint, streamRelease } from './eval/streamRelease';
import { runGuard, type GuardOutcome } from './eval/runGuard';
import { selectExamples, type EvalExample } from './eval/selection';
import { trainPayloadKeys } from './eval/injectedDocs';
import { SPLITS, type Split } from './eval/splits';
import { summarize, type EvalSummary } from './eval/summary';
import { prSvg, rocSvg } from './eval/svgPlot';
import type { EvalTask } from './eval/tasks';
import { thresholdForRole, thresholdsByRole, type OtherScoreRule } from './eval/thresholds';
import { flagsOfOtherRules, otherRulesByRole } from './eval/otherRuleFlags';
import { policyThreshold } from './eval/calibration';
import { DEFAULT_DILUTION } from './eval/dilution';
import { dilutionSvg } from './eval/dilutionPlot';
import { renderExtraSections, type ExtraSections } from './eval/reportSections';
import { calibrateByRole, runDilution, runInjectedDocs, type SuiteContext } from './eval/suites';
import { defaultPolicyFile } from '../paths';
import { PolicyHolder } from '../pipeline/runtime/policyRuntime';
import { windowSettings } from '../streaming/windowChecks';

export interface EvalIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stderr is a terminal (draws the progress bar). */
  errIsTty: boolean;
  cwd: () => string;
}

const USAGE = `usage: safety-gateway eval --guard NAME --data FILE.jsonl [options]

Runs a policy's guard over labelled JSONL records (the ../shared/data format) and reports AUROC,
AUPRC, recall at 1% FPR and precision / recall / F1 / FPR at the threshold, per source, role,
label and category. Positive = any label except benign / safe; unclear rows are skipped.

  --guard NAME          guard of the policy to evaluate (e.g. prompt_guard, llama_guard)
  --data PATH           JSONL file, dataset folder, data folder or quoted glob
                        (../shared/data/*/*.jsonl); repeatable
  --policy FILE         policy whose guard runs (default: policies/default.yaml)
  --threshold T         score >= T is a positive call (default: the threshold of the policy
                        rule that would judge the record: input rule for user rows, ...)
  --split S             train | validation | test | eval_only (SPLITS.md's rule, checked
                        across every set under --data-root)
  --data-root DIR       folder of dataset folders for the split rule (default: the parent of
                        the first data file's folder)
  --task A|B            label as SPLITS.md assembles Task A (benign/injection/jailbreak) or
                        Task B (safe/unsafe); default: each record's own label
  --role R, --label L   keep only records of this role / record label; repeatable
  --orig-label P        keep only records whose orig_label starts with P (e.g. 'contrast|'
                        for CoCoNot's contrast prompts); repeatable
  --limit N             evaluate N records, a fixed sample by id hash
  --json                print one JSON object (n, auroc, auprc, recall_at_1pct_fpr,
                        threshold, precision, recall, f1, fpr, breakdowns) on stdout
  --out DIR             write report.md, roc.svg, pr.svg, metrics.json, scores.jsonl
                        (and injected_docs.jsonl with --injected-docs)
  --progress            draw the progress bar on stderr even when it is not a terminal
  --concurrency N       checks in flight (default 16; the guards batch them)
  --threads N           onnxruntime threads per model (default: CPU cores, at most 8)
  --timeout-ms MS       the guard's per-check deadline (default 60000, not the policy's
                        timeout_ms: the evaluation itself queues many checks at once, and a
                        timeout it caused says nothing about the guard)
  --as-role R           check every selected record as a text of this role (e.g. score
                        ordinary answers as documents: --role assistant --as-role document)
  --score injection     score every text for injection as written, as a Prompt Guard rule with
                        \`score: injection\` does (the pasted-injection rule on user turns)
  --calibrate-fpr F     also report, per role, the lowest threshold flagging at most F (e.g.
                        0.01) of the selection's benign rows: how the default policy's
                        thresholds are chosen (run it on the validation split's benign pool)
  --dilution            also measure detection of the selection's attacks padded with its
                        own benign text (0-500 words before / after / both) and inside benign
                        documents of 250-2500 words; adds a table and dilution.svg
  --dilution-attacks N  attacks used by --dilution (default 100, a fixed sample)
  --dilution-padding P  pad with the benign / safe records of this data (same split) instead
                        of the selection's own benign texts, e.g. documents as harmless prose;
                        repeatable
  --injected-docs       also measure recall on document injections with and without their
                        framing (payloads moved, unframed, into other benign documents)
  --streamed            score answers (assistant rows, content-safety guards) as window mode
                        checks a stream: Llama 3 tokens as engine chunks, every window of the
                        policy's streaming settings and the whole answer, the highest score
`;

interface EvalOptions {
  guard: string;
  data: string[];
  policy: string;
  threshold?: number;
  json: boolean;
  out?: string;
  split?: Split;
  dataRoot?: string;
  task?: EvalTask;
  roles?: Set<string>;
  labels?: Set<string>;
  origLabels?: string[];
  limit?: number;
  progress: boolean;
  concurrency: number;
  threads: number;
  timeoutMs: number;
  asRole?: RecordRole;
  score?: 'injection';
  calibrateFpr?: number;
  dilution: boolean;
  dilutionAttacks: number;
  dilutionPadding?: string[];
  injectedDocs: boolean;
  streamed: boolean;
}

/** Per-check deadline during an evaluation (see --timeout-ms in USAGE). */
const EVAL_TIMEOUT_MS = 60_000;

class UsageError extends Error {}

/** `safety-gateway eval`: measures a guard of a policy on labelled data, with the gateway's own guard runtime. */
export function evalCommand(args: string[]): Promise<number> {
  return runEval(args, {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    errIsTty: Boolean(process.stderr.isTTY),
    cwd: () => process.cwd(),
  });
}

export async function runEval(args: string[], io: EvalIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  let options: EvalOptions;
  try {
    options = parseOptions(args, io.cwd());
  } catch (err) {
    io.err(`safety-gateway eval: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const started = performance.now();

  let files: string[];
  let records: DataRecord[];
  let splitOf: ((r: DataRecord) => Split) | undefined;
  try {
    files = resolveDataFiles(options.data, io.cwd());
    records = loadRecords(files);
    if (options.split) {
      const root = options.dataRoot ?? defaultDataRoot(files);
      const lookup = splitLookup(records, root);
      splitOf = lookup.splitOf;
      io.err(`split rule over ${lookup.universe} records under ${root ?? 'the given files'} (${lookup.moved} moved by rule 4)\n`);
    }
  } catch (err) {
    io.err(`safety-gateway eval: ${(err as Error).message}\n`);
    return 2;
  }
  let padding: { texts: string[]; from: string } | undefined;
  if (options.dilutionPadding) {
    try {
      const paddingFiles = resolveDataFiles(options.dilutionPadding, io.cwd());
      // The benign rows of the same split: a test run pads with test text only.
      const texts = loadRecords(paddingFiles)
        .filter((r) => (r.label === 'benign' || r.label === 'safe') && (!splitOf || splitOf(r) === options.split))
        .map((r) => r.text);
      if (texts.length === 0) throw new Error(`--dilution-padding: no benign records${options.split ? ` in the ${options.split} split` : ''} in ${options.dilutionPadding.join(', ')}`);
      padding = { texts, from: options.dilutionPadding.map((p) => path.relative(io.cwd(), p) || p).join(', ') };
    } catch (err) {
      io.err(`safety-gateway eval: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const selected = selectExamples(records, { task: options.task, split: options.split, splitOf, roles: options.roles, labels: options.labels, origLabelPrefixes: options.origLabels, limit: options.limit });
  const { skipped } = selected;
  const asRole = options.asRole;
  const examples = asRole ? selected.examples.map((e) => ({ ...e, role: asRole })) : selected.examples;
  if (examples.length === 0) {
    io.err(`safety-gateway eval: no records left to evaluate (read ${records.length}; left out: ${JSON.stringify(skipped)})\n`);
    return 1;
  }

  const opened = await openGuard(options, io);
  if (!opened) return 1;
  const { holder, guard, loaded, style } = opened;
  try {
    let thresholds: Map<RecordRole, number>;
    try {
      thresholds = thresholdsByRole(loaded.policy, options.guard, style, new Set(examples.map((e) => e.role)), options.threshold, options.score);
    } catch (err) {
      io.err(`safety-gateway eval: ${(err as Error).message}\n`);
      return 1;
    }
    const bar = options.progress || io.errIsTty ? createProgressBar(examples.length, io.err) : noProgress;
    const streamed = options.streamed ? windowSettings(loaded.policy.streaming) : undefined;
    const outcomes = await runGuard(guard, examples, { style, concurrency: options.concurrency, onProgress: (done) => bar.update(done), score: options.score, streamed });
    bar.finish();
    const thresholdOf = (e: EvalExample) => thresholds.get(e.role) as number;
    // At the policy's thresholds a text is flagged when any rule reading it fires: user turns are
    // read for jailbreaks and for injection (pasted-injection), so they are scored both ways.
    const others = options.threshold === undefined ? otherRulesByRole(loaded.policy, options.guard, style, examples, options.score) : new Map<RecordRole, OtherScoreRule>();
    const { flags: alsoFlagged, errors: otherErrors } = await flagsOfOtherRules(guard, style, options.concurrency, examples, others);
    const { summary, curves } = summarize(examples, outcomes, thresholdOf, (i) => alsoFlagged[i] ?? false);
    let extra: ExtraSections;
    try {
      const train = options.injectedDocs ? trainPayloads(options, records, splitOf) : undefined;
      // At the policy's thresholds a suite's case is flagged as the main run's rows are: by any rule reading it.
      const alsoFlagged =
        options.threshold === undefined
          ? (rows: readonly EvalExample[]) => flagsOfOtherRules(guard, style, options.concurrency, rows, otherRulesByRole(loaded.policy, options.guard, style, rows, options.score))
          : undefined;
      extra = await runExtraSuites(options, examples, outcomes, { guard, style, concurrency: options.concurrency, score: options.score, thresholdOf: (role) => thresholdFor(loaded, options, style, thresholds, role), ...(alsoFlagged ? { alsoFlagged } : {}) }, io, train, padding);
    } catch (err) {
      io.err(`safety-gateway eval: ${(err as Error).message}\n`);
      return 1;
    }
    const run: RunInfo = {
      guard: options.guard,
      model: guard.model,
      policy: `${loaded.id}@${loaded.version}`,
      policy_file: path.relative(io.cwd(), loaded.file) || loaded.file,
      data: files.map((f) => path.relative(io.cwd(), f) || f),
      split: options.split ?? null,
      task: options.task ?? null,
      limit: options.limit ?? null,
      threshold_source: options.threshold === undefined ? 'policy' : 'option',
      ...(others.size ? { also_flagged_by: [...others].map(([role, o]) => ({ role, ...o })), also_flagged_errors: otherErrors } : {}),
      timeout_ms: options.timeoutMs,
      ...(streamed && style === 'conversation' ? { streamed: { window_tokens: streamed.windowTokens, overlap_tokens: streamed.overlapTokens, whole_answer: streamed.wholeAnswer } } : {}),
      records_read: records.length,
      skipped,
      seconds: (performance.now() - started) / 1000,
    };
    const { dilutionPlot: _plot, injectedDocScores: _perCase, ...extraJson } = extra;
    const result = { ...summary, ...extraJson, run };
    if (options.out) {
      writeOutputs(options.out, run, summary, extra, curves, examples, outcomes, thresholdOf, alsoFlagged);
      io.err(`wrote ${path.join(options.out, 'report.md')} (+ roc.svg, pr.svg${extra.dilution ? ', dilution.svg' : ''}, metrics.json, scores.jsonl${extra.injectedDocScores ? ', injected_docs.jsonl' : ''})\n`);
    }
    if (options.json) io.out(`${JSON.stringify(result)}\n`);
    else {
      io.out(renderConsoleSummary(run, summary));
      for (const [role, c] of Object.entries(extra.calibration ?? {})) {
        io.out(`  calibrated ${role}: threshold ${policyThreshold(c.threshold)} flags ${c.flagged} of ${c.negatives} benign (budget ${c.budget})${c.recall !== null ? `, recall ${c.recall.toFixed(3)}` : ''}\n`);
      }
    }
    if (summary.errors.count) io.err(`${summary.errors.count} guard error(s) excluded from the metrics (${Object.entries(summary.errors.by_type).map(([t, n]) => `${t}: ${n}`).join(', ')})\n`);
    return summary.n === 0 ? 1 : 0;
  } finally {
    await holder.close();
  }
}

function parseOptions(args: string[], cwd: string): EvalOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      guard: { type: 'string' },
      data: { type: 'string', multiple: true },
      policy: { type: 'string' },
      threshold: { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      split: { type: 'string' },
      'data-root': { type: 'string' },
      task: { type: 'string' },
      role: { type: 'string', multiple: true },
      label: { type: 'string', multiple: true },
      'orig-label': { type: 'string', multiple: true },
      limit: { type: 'string' },
      progress: { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      threads: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'as-role': { type: 'string' },
      score: { type: 'string' },
      'calibrate-fpr': { type: 'string' },
      dilution: { type: 'boolean', default: false },
      'dilution-attacks': { type: 'string' },
      'dilution-padding': { type: 'string', multiple: true },
      'injected-docs': { type: 'boolean', default: false },
      streamed: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.guard) throw new UsageError('--guard NAME is required');
  // `--data ../shared/data/*/*.jsonl` unquoted: the shell expands it and the extra files arrive as positionals.
  const data = [...(values.data ?? []), ...positionals];
  if (data.length === 0) throw new UsageError('--data FILE is required');
  if (values.split !== undefined && !SPLITS.includes(values.split as Split)) throw new UsageError(`--split must be one of ${SPLITS.join(', ')}`);
  if (values.task !== undefined && values.task !== 'A' && values.task !== 'B') throw new UsageError('--task must be A or B');
  // Number('') is 0: an empty value (an unset shell variable) would silently mean threshold 0.
  const threshold = values.threshold === undefined ? undefined : numberOrNaN(values.threshold);
  const calibrateFpr = values['calibrate-fpr'] === undefined ? undefined : numberOrNaN(values['calibrate-fpr']);
  if (calibrateFpr !== undefined && !(calibrateFpr >= 0 && calibrateFpr < 1)) throw new UsageError('--calibrate-fpr must be a number in [0, 1), e.g. 0.01');
  const asRole = values['as-role'];
  if (asRole !== undefined && !RECORD_ROLES.includes(asRole as RecordRole)) throw new UsageError(`--as-role must be one of ${RECORD_ROLES.join(', ')}`);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) throw new UsageError('--threshold must be a number between 0 and 1');
  if (values.score !== undefined && values.score !== 'injection') throw new UsageError('--score must be injection');
  return {
    guard: values.guard,
    data,
    policy: path.resolve(cwd, values.policy ?? defaultPolicyFile()),
    threshold,
    json: values.json ?? false,
    out: values.out === undefined ? undefined : path.resolve(cwd, values.out),
    split: values.split as Split | undefined,
    dataRoot: values['data-root'] === undefined ? undefined : path.resolve(cwd, values['data-root']),
    task: values.task as EvalTask | undefined,
    roles: values.role ? new Set(values.role) : undefined,
    labels: values.label ? new Set(values.label) : undefined,
    origLabels: values['orig-label'],
    limit: values.limit === undefined ? undefined : positiveInt('--limit', values.limit),
    progress: values.progress ?? false,
    concurrency: values.concurrency === undefined ? 16 : positiveInt('--concurrency', values.concurrency),
    threads: values.threads === undefined ? Math.min(8, os.availableParallelism()) : positiveInt('--threads', values.threads),
    timeoutMs: values['timeout-ms'] === undefined ? EVAL_TIMEOUT_MS : timeoutMs(values['timeout-ms']),
    asRole: asRole as RecordRole | undefined,
    score: values.score as 'injection' | undefined,
    calibrateFpr,
    dilution: values.dilution ?? false,
    dilutionAttacks: values['dilution-attacks'] === undefined ? DEFAULT_DILUTION.attacks : positiveInt('--dilution-attacks', values['dilution-attacks']),
    dilutionPadding: values['dilution-padding'],
    injectedDocs: values['injected-docs'] ?? false,
    streamed: values.streamed ?? false,
  };
}

function positiveInt(flag: string, text: string): number {
  const n = numberOrNaN(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

/** Node fires a longer timer at once, so every check would time out. */
function timeoutMs(text: string): number {
  const n = positiveInt('--timeout-ms', text);
  if (n > MAX_TIMER_MS) throw new UsageError(`--timeout-ms must be at most ${MAX_TIMER_MS} (about 24.8 days)`);
  return n;
}

/** A flag's number; NaN for an empty or blank value (Number reads those as 0). */
function numberOrNaN(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/**
 * Loads the policy and only the evaluated guard, through the PolicyHolder and guard factory the
 * gateway uses. The policy is narrowed to that guard first: installing it whole would also load
 * every other guard, and one missing model (another guard's) must not stop this evaluation.
 */
async function openGuard(
  options: EvalOptions,
  io: EvalIo,
): Promise<{ holder: PolicyHolder; guard: Guard; loaded: LoadedPolicy; style: RequestStyle } | undefined> {
  let loaded: LoadedPolicy;
  try {
    loaded = loadPolicyFile(options.policy);
  } catch (err) {
    if (err instanceof PolicyError) for (const problem of err.problems) io.err(`${formatProblem(problem)}\n`);
    io.err(`safety-gateway eval: cannot load the policy ${options.policy}${err instanceof PolicyError ? '' : `: ${(err as Error).message}`}\n`);
    return undefined;
  }
  const spec = Object.hasOwn(loaded.policy.guards, options.guard) ? loaded.policy.guards[options.guard] : undefined;
  if (!spec) {
    const names = Object.keys(loaded.policy.guards);
    const hint = closest(options.guard, names);
    io.err(`safety-gateway eval: the policy ${loaded.id} has no guard "${options.guard}"${hint ? ` (did you mean "${hint}"?)` : ''}; its guards: ${names.join(', ') || 'none'}\n`);
    return undefined;
  }
  const narrowedSpec = { ...spec, timeout_ms: options.timeoutMs };
  const uses = (r: { guard: string }) => r.guard === options.guard;
  const narrowed: LoadedPolicy = {
    ...loaded,
    policy: { ...loaded.policy, guards: { [options.guard]: narrowedSpec }, input: loaded.policy.input.filter(uses), output: loaded.policy.output.filter(uses) },
  };
  const holder = new PolicyHolder({ threads: options.threads });
  try {
    const runtime = await holder.install(narrowed);
    const guard = runtime.guards.get(options.guard);
    if (!guard) throw new Error(`guard ${options.guard} did not load`);
    return { holder, guard, loaded, style: spec.type === 'prompt_guard' ? 'texts' : 'conversation' };
  } catch (err) {
    await holder.close();
    io.err(`safety-gateway eval: cannot load guard "${options.guard}" of ${loaded.file}: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** The threshold a suite case of this role gets: the one the main run used, else the policy rule's. */
function thresholdFor(loaded: LoadedPolicy, options: EvalOptions, style: RequestStyle, known: Map<RecordRole, number>, role: RecordRole): number {
  const t = known.get(role) ?? options.threshold ?? thresholdForRole(loaded.policy, options.guard, style, role);
  if (t === undefined) throw new Error(`no threshold for role ${role}`);
  return t;
}

async function runExtraSuites(options: EvalOptions, examples: EvalExample[], outcomes: GuardOutcome[], ctx: SuiteContext, io: EvalIo, train?: ReadonlySet<string>, padding?: { texts: string[]; from: string }): Promise<ExtraSections> {
  const extra: ExtraSections = {};
  if (options.calibrateFpr !== undefined) extra.calibration = calibrateByRole(examples, outcomes, options.calibrateFpr);
  if (options.streamed) extra.streamRelease = streamRelease(examples, outcomes, (e) => ctx.thresholdOf(e.role));
  if (options.injectedDocs) {
    io.err('injected documents: framed, and unframed payloads moved into other benign documents\n');
    const { summary, scores } = await runInjectedDocs(ctx, examples, train);
    extra.injectedDocs = summary;
    extra.injectedDocScores = scores;
  }
  if (options.dilution) {
    io.err(`dilution: ${options.dilutionAttacks} attacks padded with benign text\n`);
    extra.dilution = await runDilution(ctx, examples, options.dilutionAttacks, padding);
    extra.dilutionPlot = 'dilution.svg';
  }
  return extra;
}

/** What training could have seen as a payload, when the run measures another split (see trainPayloadKeys). */
function trainPayloads(options: EvalOptions, records: readonly DataRecord[], splitOf: ((r: DataRecord) => Split) | undefined): Set<string> | undefined {
  if (!splitOf || !options.split || options.split === 'train') return undefined;
  const { examples } = selectExamples(records, { task: options.task, split: 'train', splitOf, roles: new Set(['document', 'tool']) });
  const injections = examples.map((e) => ({ id: e.id, text: e.text, group: e.group, positive: e.positive, role: e.role }));
  return trainPayloadKeys(injections, records.filter((r) => splitOf(r) === 'train').map((r) => r.text));
}

function writeOutputs(
  dir: string,
  run: RunInfo,
  summary: EvalSummary,
  extra: ExtraSections,
  curves: ReturnType<typeof summarize>['curves'],
  examples: readonly EvalExample[],
  outcomes: readonly GuardOutcome[],
  thresholdOf: (e: EvalExample) => number,
  alsoFlagged: readonly (boolean | undefined)[],
): void {
  mkdirSync(dir, { recursive: true });
  const label = `threshold ${summary.threshold ?? 'per role'}`;
  const prevalence = summary.n ? summary.positives / summary.n : null;
  writeFileSync(path.join(dir, 'roc.svg'), rocSvg(curves.roc, summary.auroc, { fpr: summary.fpr, tpr: summary.recall, label }));
  writeFileSync(path.join(dir, 'pr.svg'), prSvg(curves.pr, summary.auprc, prevalence, { recall: summary.recall, precision: summary.precision, label }));
  if (extra.dilution) writeFileSync(path.join(dir, 'dilution.svg'), dilutionSvg(extra.dilution));
  writeFileSync(path.join(dir, 'report.md'), `${renderReport(run, summary, { roc: 'roc.svg', pr: 'pr.svg' })}\n${renderExtraSections(summary, extra)}`);
  const { dilutionPlot: _plot, injectedDocScores: _perCase, ...extraJson } = extra;
  writeFileSync(path.join(dir, 'metrics.json'), `${JSON.stringify({ ...summary, ...extraJson, run }, null, 2)}\n`);
  // Per-record scores for error analysis; ids only, no texts (the data stays where it is).
  const lines = examples.map((e, i) => {
    const o = outcomes[i];
    const base = { id: e.id, source: e.dataset, role: e.role, label: e.label, positive: e.positive, threshold: thresholdOf(e) };
    if ('error' in o) return JSON.stringify({ ...base, error: o.error.type });
    // Streamed: the share of the answer already sent when window mode would block it.
    const block = o.stream ? blockPoint(o.stream, thresholdOf(e)) : undefined;
    return JSON.stringify({ ...base, score: o.score, flagged: o.score >= thresholdOf(e) || alsoFlagged[i] === true, guard_label: o.label, guard_categories: o.categories, ...(block ? { released_before_block: Number(block.releasedShare.toFixed(4)) } : {}) });
  });
  writeFileSync(path.join(dir, 'scores.jsonl'), lines.length ? `${lines.join('\n')}\n` : '');
  if (extra.injectedDocScores) writeFileSync(path.join(dir, 'injected_docs.jsonl'), extra.injectedDocScores.map((c) => `${JSON.stringify(c)}\n`).join(''));
}

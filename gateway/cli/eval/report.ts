import path from 'node:path';
import type { SkipCounts } from './selection';
import type { EvalSummary, GroupSummary } from './summary';

/** What was evaluated, for the report's header and the JSON's `run` key. */
export interface RunInfo {
  guard: string;
  model: string;
  /** `id@version` of the policy the guard came from. */
  policy: string;
  policy_file: string;
  data: string[];
  split: string | null;
  task: string | null;
  limit: number | null;
  /** Where the thresholds came from. */
  threshold_source: 'policy' | 'option';
  /** Rules of the other score that read these roles too: their flags count in the calls at the threshold. */
  also_flagged_by?: { role: string; rule: string; score: 'injection' | 'default'; threshold: number }[];
  /** Checks of those other rules that failed (their rows count as not flagged by them). */
  also_flagged_errors?: number;
  /** The per-check deadline the guard ran with. */
  timeout_ms: number;
  /** Answers scored as window mode checks a stream (--streamed), with these settings. */
  streamed?: { window_tokens: number; overlap_tokens: number; whole_answer: boolean };
  records_read: number;
  skipped: SkipCounts;
  seconds: number;
}

export interface PlotFiles {
  roc: string;
  pr: string;
}

/** A figure as text: undefined metrics print as `n/a` (one class only, nothing flagged, ...). */
export function fmtMetric(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? 'n/a' : value.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function groupTable(title: string, groups: Record<string, GroupSummary>): string {
  const rows = Object.entries(groups).map(([name, g]) => [
    `\`${name}\``,
    String(g.n),
    String(g.positives),
    String(g.negatives),
    fmtMetric(g.recall),
    fmtMetric(g.fpr),
    fmtMetric(g.precision),
    fmtMetric(g.auroc),
    fmtMetric(g.auprc),
  ]);
  return `${table([title, 'n', 'pos', 'neg', 'recall', 'FPR', 'precision', 'AUROC', 'AUPRC'], rows)}\n`;
}

export function thresholdText(summary: Pick<EvalSummary, 'threshold' | 'thresholds'>): string {
  if (summary.threshold !== null) return String(summary.threshold);
  const parts = Object.entries(summary.thresholds).map(([role, t]) => `${role} ${t}`);
  return parts.length ? parts.join(', ') : 'n/a';
}

function skippedText(skipped: SkipCounts): string {
  const parts = Object.entries(skipped)
    .filter(([, n]) => n > 0)
    .map(([why, n]) => `${n} ${why.replace(/_/g, ' ')}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** Many files of one data folder (a glob over ../shared/data) read better as the folder and the names. */
export function dataText(files: readonly string[]): string {
  if (files.length <= 3) return files.map((f) => `\`${f}\``).join(', ');
  const roots = new Set(files.map((f) => path.dirname(path.dirname(f))));
  if (roots.size !== 1) return files.map((f) => `\`${f}\``).join(', ');
  return `${files.length} datasets under \`${[...roots][0]}\`: ${files.map((f) => path.basename(f, '.jsonl')).join(', ')}`;
}

/** The Markdown report: pure, so a test can read it without running a guard. */
export function renderReport(run: RunInfo, s: EvalSummary, plots: PlotFiles): string {
  const lines: string[] = [];
  lines.push(`# Guard evaluation: \`${run.guard}\``, '');
  lines.push(`- model: \`${run.model}\`, policy \`${run.policy}\` (${run.policy_file})`);
  lines.push(`- data: ${dataText(run.data)}`);
  lines.push(`- split: ${run.split ?? 'all records'}; task: ${run.task ?? "records' own labels"}${run.limit !== null ? `; limit ${run.limit} (sampled by id hash)` : ''}`);
  lines.push(`- records read: ${run.records_read}; left out: ${skippedText(run.skipped)}`);
  lines.push(`- scored: ${s.n} (${s.positives} positive, ${s.negatives} negative); guard errors: ${s.errors.count}${s.errors.count ? ' (excluded from every figure)' : ''}`);
  lines.push(`- threshold: ${thresholdText(s)} (${run.threshold_source === 'option' ? '--threshold' : "the policy's rules"}); a score >= threshold is a positive call`);
  for (const o of run.also_flagged_by ?? []) {
    lines.push(`- ${o.role} rows are also read by rule \`${o.rule}\` (${o.score === 'injection' ? 'injection' : 'its default'} score >= ${o.threshold}): a row it flags counts as a positive call at the threshold, as the gateway blocks on any rule; AUROC, AUPRC and recall at 1% FPR are on this run's score alone`);
  }
  if (run.also_flagged_errors) lines.push(`- ${run.also_flagged_errors} check(s) of those other rules failed: their rows count as not flagged by them`);
  if (run.streamed) {
    const w = run.streamed;
    lines.push(`- answers scored streamed, as window mode checks them: every ${w.window_tokens} Llama 3 tokens with ${w.overlap_tokens} re-read${w.whole_answer ? ', and the whole answer at the end' : ''}; an answer's score is its highest`);
  }
  lines.push(`- time: ${run.seconds.toFixed(1)} s; per-check deadline ${run.timeout_ms} ms`, '');

  lines.push('## Summary', '');
  lines.push(
    table(
      ['metric', 'value'],
      [
        ['AUROC', fmtMetric(s.auroc)],
        ['AUPRC (average precision)', fmtMetric(s.auprc)],
        [`recall at 1% FPR`, `${fmtMetric(s.recall_at_1pct_fpr)}${s.threshold_at_1pct_fpr !== null ? ` (threshold ${s.threshold_at_1pct_fpr.toPrecision(4)})` : ''}`],
        [`precision @ ${thresholdText(s)}`, fmtMetric(s.precision)],
        [`recall @ ${thresholdText(s)}`, fmtMetric(s.recall)],
        [`F1 @ ${thresholdText(s)}`, fmtMetric(s.f1)],
        [`FPR @ ${thresholdText(s)}`, fmtMetric(s.fpr)],
      ],
    ),
    '',
  );
  lines.push('Metrics that need both classes (or a flagged record) print `n/a` when the data has only one.', '');

  lines.push('## Confusion matrix at the threshold', '');
  const c = s.confusion;
  lines.push(table(['', 'flagged', 'not flagged'], [['**positive**', String(c.tp), String(c.fn)], ['**negative**', String(c.fp), String(c.tn)]]), '');

  lines.push('## Curves', '');
  lines.push(`![ROC curve](${plots.roc}) ![Precision-recall curve](${plots.pr})`, '');
  lines.push('The red dot marks the operating point at the threshold.', '');

  lines.push('## By source', '');
  lines.push(groupTable('source', s.by_source));
  lines.push('## By role', '');
  lines.push(groupTable('role', s.by_role));
  lines.push('## By label', '');
  lines.push(groupTable('label', s.by_label));
  lines.push('## By language (a guess)', '');
  lines.push('The language is guessed from the text (writing system, then common words of English, Spanish, French, German, Italian and Portuguese), not labelled in the data: a reading aid for over-blocking by language.', '');
  lines.push(groupTable('language', s.by_language));

  lines.push('## Recall by category (positives only)', '');
  if (s.by_category.length === 0) lines.push('No positives.', '');
  else {
    lines.push('A positive with several categories counts under each; `none` = a positive without categories.', '');
    lines.push(table(['category', 'positives', 'detected', 'recall'], s.by_category.map((k) => [`\`${k.category}\``, String(k.positives), String(k.detected), fmtMetric(k.recall)])), '');
  }

  lines.push('## Guard errors', '');
  if (s.errors.count === 0) lines.push('None.', '');
  else {
    lines.push(`${s.errors.count} check(s) failed and are excluded from every figure above.`, '');
    lines.push(table(['type', 'count'], Object.entries(s.errors.by_type).map(([t, n]) => [t, String(n)])), '');
    lines.push('First failures:', '');
    for (const e of s.errors.samples) lines.push(`- \`${e.id}\` ${e.type}: ${e.message.replace(/\s+/g, ' ').slice(0, 300)}`);
    lines.push('');
  }
  return `${lines.join('\n')}`;
}

/** The few lines printed to stdout when neither --json nor --out is given. */
export function renderConsoleSummary(run: RunInfo, s: EvalSummary): string {
  const rows: [string, string][] = [
    ['n', `${s.n} (${s.positives} pos, ${s.negatives} neg)`],
    ['AUROC', fmtMetric(s.auroc)],
    ['AUPRC', fmtMetric(s.auprc)],
    ['recall@1%FPR', fmtMetric(s.recall_at_1pct_fpr)],
    ['threshold', thresholdText(s)],
    ['precision', fmtMetric(s.precision)],
    ['recall', fmtMetric(s.recall)],
    ['F1', fmtMetric(s.f1)],
    ['FPR', fmtMetric(s.fpr)],
    ['confusion', `tp ${s.confusion.tp}  fp ${s.confusion.fp}  tn ${s.confusion.tn}  fn ${s.confusion.fn}`],
    ['guard errors', `${s.errors.count}${s.errors.count ? ` (excluded; ${Object.entries(s.errors.by_type).map(([t, n]) => `${t} ${n}`).join(', ')})` : ''}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const head = `${run.guard} (${run.model}) on ${run.split ?? 'all'}${run.task ? `, task ${run.task}` : ''}`;
  return `${head}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

/**
 * The report's optional sections: over-blocking per benign source, thresholds calibrated on a
 * false-positive budget, dilution, and framed / unframed document injections. Pure Markdown.
 */
import type { Calibration } from './calibration';
import { policyThreshold } from './calibration';
import type { DilutionResult } from './dilution';
import { fmtMetric } from './report';
import type { StreamRelease } from './streamRelease';
import type { EvalSummary } from './summary';

export interface InjectedDocsResult {
  /** Benign documents and tool results of the selection. */
  carriers: { n: number; flagged_at_threshold: number | null };
  /**
   * Per kind (framed, unframed; with a split other than train, also each restricted to payloads
   * training never read: no train injection carries them, no train row is one): recall at the policy threshold and at the 1%-FPR point on the carriers.
   */
  kinds: Record<string, { n: number; recall_at_threshold: number | null; recall_at_1pct_fpr: number | null }>;
  /** The threshold flagging at most 1% of the carriers. */
  threshold_at_1pct_fpr: number | null;
  errors: number;
}

/** One injected-documents case as written to injected_docs.jsonl: ids and scores, never text. */
export interface InjectedDocScore {
  /** The record's id; a moved payload is `<injection id>+<host carrier id>`. */
  id: string;
  kind: 'framed' | 'unframed' | 'carrier';
  role: string;
  positive: boolean;
  threshold: number;
  score?: number;
  flagged?: boolean;
  error?: string;
}

export interface ExtraSections {
  calibration?: Record<string, Calibration>;
  dilution?: DilutionResult;
  dilutionPlot?: string;
  injectedDocs?: InjectedDocsResult;
  /** Per case, for error analysis (which payloads and carriers); kept out of metrics.json. */
  injectedDocScores?: InjectedDocScore[];
  /** --streamed: how much of each caught unsafe answer had gone out before its block. */
  streamRelease?: StreamRelease;
}

function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);

/** Benign rows flagged per source at the policy threshold: what ordinary users would see blocked. */
export function overBlockingSection(s: EvalSummary): string {
  const rows = Object.entries(s.by_source)
    .filter(([, g]) => g.negatives > 0)
    .map(([name, g]) => [`\`${name}\``, String(g.negatives), String(g.fp), pct(g.fpr)]);
  if (!rows.length) return '';
  return ['## Over-blocking (benign rows flagged at the threshold)', '', table(['source', 'benign rows', 'flagged', 'FPR'], rows), ''].join('\n');
}

export function calibrationSection(calibration: Record<string, Calibration>): string {
  const rows = Object.entries(calibration).map(([role, c]) => [
    `\`${role}\``,
    String(c.negatives),
    pct(c.budget),
    c.threshold.toPrecision(6),
    String(policyThreshold(c.threshold)),
    `${c.flagged} (${pct(c.fpr)})`,
    pct(c.recall),
  ]);
  return [
    '## Thresholds on a false-positive budget',
    '',
    'The lowest threshold at which at most the budget of this selection\'s benign rows is flagged, per role (the policy rule that judges it); "for the policy" is rounded up to 4 decimals.',
    '',
    table(['role', 'benign rows', 'budget', 'threshold', 'for the policy', 'benign flagged', 'recall'], rows),
    '',
  ].join('\n');
}

export function dilutionSection(d: DilutionResult, plotFile?: string): string {
  const lines = ['## Dilution', ''];
  lines.push(`${d.attacks} attacks of this selection, padded with ${d.padding_from ? `benign texts of ${d.padding_from}` : 'its own benign texts'} (N words before, after, or both sides; each beside the same padding alone), and inserted at a random sentence boundary of benign documents of N words (beside the same documents alone). Detection at the policy threshold; a detection rate is only as good as the benign text alone stays unflagged.${d.errors ? ` ${d.errors} check(s) failed and are left out.` : ''}`, '');
  const words = [...new Set(Object.values(d.padding).flatMap((ps) => ps.map((p) => p.words)))].sort((a, b) => a - b);
  const placements = Object.keys(d.padding);
  if (placements.length) {
    const at = (pl: string, w: number) => d.padding[pl].find((p) => p.words === w);
    const rows = words.map((w) => [String(w), ...placements.flatMap((pl) => [pct(at(pl, w)?.detected), w === 0 ? '' : pct(at(pl, w)?.benign_flagged), w === 0 ? '' : fmtMetric(at(pl, w)?.auroc_vs_alone ?? null)])]);
    lines.push(table(['words per side', ...placements.flatMap((p) => [`padding ${p}: detected`, `${p} alone: flagged`, `${p}: AUROC vs alone`])], rows), '');
  }
  if (d.documents.length) {
    lines.push(table(['document words', 'attack inside: detected', 'document alone: flagged', 'AUROC vs alone'], d.documents.map((p) => [String(p.words), pct(p.detected), pct(p.benign_flagged), fmtMetric(p.auroc_vs_alone ?? null)])), '');
  }
  if (plotFile) lines.push(`![Dilution curves](${plotFile})`, '');
  return lines.join('\n');
}

export function injectedDocsSection(r: InjectedDocsResult): string {
  const rows = Object.entries(r.kinds).map(([kind, k]) => [kind, String(k.n), pct(k.recall_at_threshold), pct(k.recall_at_1pct_fpr)]);
  return [
    '## Document injections, framed and unframed',
    '',
    `Injections whose clean carrier is in the selection, by whether their payload wears one of the synthetic framings; \`unframed\` also holds each payload with its framing removed, inserted at a random sentence boundary of another benign document. ${r.carriers.n} benign documents and tool results are the negatives (${pct(r.carriers.flagged_at_threshold)} flagged at the threshold; the 1%-FPR threshold on them is ${fmtMetric(r.threshold_at_1pct_fpr, 4)}).${r.errors ? ` ${r.errors} check(s) failed and are left out.` : ''}`,
    '',
    table(['payload', 'injected documents', 'recall @ threshold', 'recall @ 1% FPR'], rows),
    '',
  ].join('\n');
}

/** --streamed: when the blocks land, for a reader who would otherwise take "caught" as "never seen". */
export function streamReleaseSection(r: StreamRelease): string {
  const share = (n: number) => `${n} (${pct(r.unsafe_answers ? n / r.unsafe_answers : null)})`;
  return [
    '## Streamed: how much of an unsafe answer went out before its block',
    '',
    'Window mode releases each window once it passed, so a block lands after what came before it reached the client.',
    '',
    table(
      ['unsafe answers', 'caught', 'before any text', 'with at most half out', 'only by the end checks', 'median share out when caught'],
      [[String(r.unsafe_answers), share(r.caught), share(r.caught_before_any_text), share(r.caught_by_half), share(r.caught_at_end), pct(r.median_released_share)]],
    ),
    '',
  ].join('\n');
}

export function renderExtraSections(s: EvalSummary, extra: ExtraSections): string {
  const parts = [overBlockingSection(s)];
  if (extra.streamRelease) parts.push(streamReleaseSection(extra.streamRelease));
  if (extra.calibration) parts.push(calibrationSection(extra.calibration));
  if (extra.injectedDocs) parts.push(injectedDocsSection(extra.injectedDocs));
  if (extra.dilution) parts.push(dilutionSection(extra.dilution, extra.dilutionPlot));
  return parts.filter(Boolean).join('\n');
}

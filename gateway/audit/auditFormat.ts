import { isDecision, type AuditStats, type StoredAuditEntry } from './auditQuery';
import { refusalSummary } from './rejectionEntry';

/** How `audit query` prints: an aligned table for people, JSON lines for jq, CSV for spreadsheets. */
export type OutputFormat = 'table' | 'jsonl' | 'csv';

const COLUMNS = ['received_at', 'request_id', 'app', 'route', 'action', 'status', 'rules', 'guards', 'policy', 'seq'] as const;
type Row = Record<(typeof COLUMNS)[number], string>;

/**
 * Pure: the flat row of an entry. `rules` are the deciding rules; `guards` every verdict as
 * guard=label score [categories]. A refusal shows its kind as the action and its reason (and limit, or the member an invalid request names) as the rule;
 * a policy_unavailable shows the policy id its key assigns as the policy.
 */
export function toRow(entry: StoredAuditEntry): Row {
  if (!isDecision(entry)) {
    return {
      received_at: entry.received_at,
      request_id: entry.request_id,
      app: entry.app ?? '',
      route: entry.route,
      action: entry.kind,
      status: String(entry.status),
      rules: refusalSummary(entry),
      guards: '',
      policy: entry.policy_id ?? '',
      seq: String(entry.seq),
    };
  }
  const rules = [...new Set(entry.phases.map((p) => p.deciding_rule).filter((r): r is string => !!r))];
  const guards = entry.phases.flatMap((p) =>
    p.verdicts.map((v) => `${p.direction === 'output' ? 'out:' : ''}${v.guard}=${v.label} ${v.score.toFixed(3)}${v.categories.length ? ` [${v.categories.join(' ')}]` : ''}${v.mode === 'shadow' ? ' (shadow)' : ''}`),
  );
  return {
    received_at: entry.received_at,
    request_id: entry.request_id,
    app: entry.app,
    route: entry.route,
    action: entry.action,
    status: String(entry.status),
    rules: rules.join(' '),
    guards: [...new Set(guards)].join('; '),
    policy: `${entry.policy.id}@${entry.policy.version}`,
    seq: String(entry.seq),
  };
}

export function formatEntries(entries: readonly StoredAuditEntry[], format: OutputFormat): string {
  if (format === 'jsonl') return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
  const rows = entries.map(toRow);
  if (format === 'csv') return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
  return table([...COLUMNS], rows.map((r) => COLUMNS.map((c) => r[c])));
}

/**
 * RFC 4180 quoting, `;` included: a spreadsheet that splits on `;` (locales with a decimal comma)
 * must not cut a value into new cells, one of which could start with `=`. A leading quote on
 * cells a spreadsheet would run as a formula. Values come from clients (the route of an
 * unauthenticated request is its raw path).
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",;\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function formatStats(stats: AuditStats, format: OutputFormat): string {
  if (format === 'jsonl') return `${JSON.stringify(stats)}\n`;
  // Records of every kind (decisions and refusals: the kind table below splits them).
  const summarized = stats.summaries.records ? `; ${stats.summaries.records} of them summarize a flood of ${stats.summaries.refusals} refusals (audit.refusals), counted below as requests` : '';
  const sections: string[] = [`${stats.records} records${stats.from ? ` from ${stats.from} to ${stats.to}` : ''}${summarized}\n`];
  if (stats.unfinishedStreams) {
    const { count, first } = stats.unfinishedStreams;
    sections.push(
      `${count} stream(s) started with no decision record after them: still streaming, or cut when the gateway stopped mid-stream (a crash or a kill) after the client had part of an answer${count > first.length ? `; the first ${first.length}` : ''}:\n` +
        first.map((s) => `  ${s.received_at}  ${s.request_id}  ${s.app}  ${s.route}\n`).join(''),
    );
  }
  const counts = (title: string, record: Record<string, number>) =>
    table([title, 'requests'], Object.entries(record).sort(([, a], [, b]) => b - a).map(([k, v]) => [k, String(v)]));
  sections.push(counts('kind', stats.byKind));
  sections.push(counts('action', stats.byAction));
  if (Object.keys(stats.byReason).length) sections.push(counts('refusal reason', stats.byReason));
  sections.push(table(['guard', 'runs', 'flagged', 'blocked', 'errors'], Object.entries(stats.byGuard).sort().map(([g, s]) => [g, String(s.runs), String(s.flagged), String(s.blocked), String(s.errors)])));
  sections.push(counts('category', stats.byCategory));
  sections.push(
    table(
      ['app', 'allow', 'flag', 'block', 'error', 'rate_limited', 'unauthenticated', 'invalid_request', 'policy_unavailable'],
      Object.entries(stats.byApp)
        .sort()
        .map(([a, s]) => [a, String(s.allow ?? 0), String(s.flag ?? 0), String(s.block ?? 0), String(s.error ?? 0), String(s.rate_limited ?? 0), String(s.unauthenticated ?? 0), String(s.invalid_request ?? 0), String(s.policy_unavailable ?? 0)]),
    ),
  );
  if (format === 'csv') {
    const rows: string[] = ['dimension,key,count'];
    for (const [k, v] of Object.entries(stats.byKind)) rows.push(`kind,${csvCell(k)},${v}`);
    if (stats.summaries.records) rows.push(`summary_records,refusals,${stats.summaries.records}`, `summarized,refusals,${stats.summaries.refusals}`);
    if (stats.unfinishedStreams) rows.push(`unfinished_streams,streams,${stats.unfinishedStreams.count}`);
    for (const [k, v] of Object.entries(stats.byReason)) rows.push(`reason,${csvCell(k)},${v}`);
    for (const [k, v] of Object.entries(stats.byAction)) rows.push(`action,${csvCell(k)},${v}`);
    for (const [k, v] of Object.entries(stats.byGuard)) rows.push(`guard_runs,${csvCell(k)},${v.runs}`, `guard_flagged,${csvCell(k)},${v.flagged}`, `guard_blocked,${csvCell(k)},${v.blocked}`, `guard_errors,${csvCell(k)},${v.errors}`);
    for (const [k, v] of Object.entries(stats.byCategory)) rows.push(`category,${csvCell(k)},${v}`);
    for (const [app, byAction] of Object.entries(stats.byApp)) for (const [a, v] of Object.entries(byAction)) rows.push(`app_${a},${csvCell(app)},${v}`);
    return rows.join('\n') + '\n';
  }
  return sections.join('\n');
}

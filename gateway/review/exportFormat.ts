import { csvCell } from '../audit/auditFormat';

/** Pure: the CSV export's columns and the row of one parsed log line (JSONL exports the lines as they are). */
export const CSV_COLUMNS = [
  'seq', 'received_at', 'kind', 'request_id', 'client_request_id', 'trace_id', 'app', 'key_id', 'route', 'action', 'status',
  'policy', 'rules', 'verdicts', 'categories', 'error_type', 'total_ms', 'content_capture', 'file', 'line',
] as const;

type Obj = Record<string, unknown>;
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** One CSV line (RFC 4180, formula-looking cells defused); never any captured text, only what identifies and decides. */
export function csvRow(record: Obj | undefined, at: { file: string; line: number }): string {
  const r = record ?? {};
  const phases = list(r.phases).map(obj).filter((p): p is Obj => !!p);
  const verdicts = phases.flatMap((p) => list(p.verdicts).map(obj).filter((v): v is Obj => !!v).map((v) => ({ p, v })));
  const categories = new Set<string>();
  for (const { v } of verdicts) for (const c of list(v.categories)) if (typeof c === 'string') categories.add(c);
  const kind = text(r.kind) || 'unreadable';
  const policy = obj(r.policy);
  const values: Record<(typeof CSV_COLUMNS)[number], string> = {
    seq: text(r.seq),
    received_at: text(r.received_at) || text(r.ts),
    kind,
    request_id: text(r.request_id),
    client_request_id: text(r.client_request_id),
    trace_id: text(r.trace_id),
    app: text(r.app),
    key_id: text(r.key_id),
    route: text(r.route),
    action: kind === 'decision' ? text(r.action) : kind === 'checkpoint' ? text(r.reason) : text(r.reason),
    status: text(r.status),
    policy: policy ? `${text(policy.id)}@${text(policy.version)}` : text(r.policy_id),
    rules: [...new Set(phases.map((p) => text(p.deciding_rule)).filter(Boolean))].join(' '),
    verdicts: verdicts
      .map(({ p, v }) => `${text(p.direction) === 'output' ? 'out:' : ''}${text(v.guard)}=${v.error_type ? 'error' : text(v.label)} ${typeof v.score === 'number' ? v.score.toFixed(4) : ''}${text(v.mode) === 'shadow' ? ' (shadow)' : ''}`)
      .join('; '),
    categories: [...categories].join(' '),
    error_type: text(obj(r.error)?.type),
    total_ms: text(obj(r.timings)?.total_ms),
    content_capture: text(obj(r.content)?.capture),
    file: at.file,
    line: String(at.line),
  };
  return `${CSV_COLUMNS.map((c) => csvCell(values[c])).join(',')}\r\n`;
}

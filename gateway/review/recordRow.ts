import type { AuditEntry } from '../audit/auditEntry';
import { verdictOutcome } from '../audit/auditQuery';
import { refusalsIn, refusalSummary, type RejectionEntry } from '../audit/rejectionEntry';
import type { Facet } from './indexSchema';

/** The indexed fields of one log line (the rest is read back from the file when needed). */
export interface RecordRow {
  kind: string;
  seq: number | null;
  hash: string | null;
  ts: string | null;
  received_ms: number | null;
  request_id: string | null;
  client_request_id: string | null;
  trace_id: string | null;
  app: string | null;
  key_id: string | null;
  route: string | null;
  action: string | null;
  status: number | null;
  policy_id: string | null;
  policy_version: string | null;
  rules: string | null;
  /** The most telling verdict, for the list: `guard label score [categories]`. */
  summary: string | null;
  error_type: string | null;
  total_ms: number | null;
  capture: string | null;
  /** The requests the line stands for: 1, or a refusal summary's count. */
  requests: number;
}

export interface VerdictRow {
  direction: string;
  guard: string | null;
  label: string | null;
  rule_id: string | null;
  mode: string | null;
  outcome: string | null;
  score: number | null;
  latency_ms: number | null;
  deciding: number;
  categories: string[];
}

export interface IndexedLine {
  row: RecordRow;
  verdicts: VerdictRow[];
  facets: [Facet, string][];
}

/** The refusal kinds (401, 429, a guarded route's invalid request, 503 policy_unavailable): indexed with their reason as the summary. */
const REFUSAL_KINDS: ReadonlySet<string> = new Set(['unauthenticated', 'rate_limited', 'invalid_request', 'policy_unavailable']);
const KNOWN_KINDS: ReadonlySet<string> = new Set(['decision', 'checkpoint', 'stream_started', ...REFUSAL_KINDS]);

const str = (v: unknown): string | null => (typeof v === 'string' ? v.slice(0, 500) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Pure: what the index keeps of a parsed log line. Tolerant: a line edited into an odd shape is
 * still indexed with what it has (the chain check reports the edit), never thrown on.
 */
export function toIndexedLine(record: Record<string, unknown> | undefined): IndexedLine {
  const empty: RecordRow = {
    kind: 'unreadable', seq: null, hash: null, ts: null, received_ms: null, request_id: null, client_request_id: null, trace_id: null, app: null, key_id: null,
    route: null, action: null, status: null, policy_id: null, policy_version: null, rules: null, summary: null, error_type: null, total_ms: null, capture: null, requests: 1,
  };
  if (!record) return { row: empty, verdicts: [], facets: [] };
  const kind = str(record.kind);
  const received = str(record.received_at);
  const receivedMs = received ? Date.parse(received) : NaN;
  const row: RecordRow = {
    ...empty,
    kind: kind !== null && KNOWN_KINDS.has(kind) ? kind : 'unreadable',
    seq: Number.isSafeInteger(record.seq) ? (record.seq as number) : null,
    hash: str(record.hash),
    ts: str(record.ts),
    received_ms: Number.isFinite(receivedMs) ? receivedMs : null,
    request_id: str(record.request_id),
    client_request_id: str(record.client_request_id),
    trace_id: str(record.trace_id),
    app: str(record.app),
    // A checkpoint's key_id names the signing key, not an API key: kept out of the API key column and filter.
    key_id: kind === 'checkpoint' ? null : str(record.key_id),
    route: str(record.route),
    status: num(record.status),
  };
  const facets: [Facet, string][] = [];
  const facet = (name: Facet, value: string | null) => {
    if (value) facets.push([name, value]);
  };
  facet('app', row.app);
  facet('key_id', row.key_id);
  facet('route', row.route);
  if (REFUSAL_KINDS.has(row.kind)) {
    const r = record as Partial<RejectionEntry>;
    row.action = row.kind;
    const repeats = r.repeats && typeof r.repeats === 'object' ? r.repeats : undefined;
    row.summary =
      typeof r.reason === 'string'
        ? refusalSummary({ reason: r.reason, param: str(r.param), policy_id: str(r.policy_id), limit: r.limit && typeof r.limit === 'object' ? r.limit : undefined, repeats }).slice(0, 500)
        : null;
    row.requests = repeats ? refusalsIn({ repeats }) : 1;
    // A policy_unavailable names the policy its key assigns: the policy filter finds it (no version: none was loaded).
    row.policy_id = str(r.policy_id);
    facet('policy_id', row.policy_id);
    return { row, verdicts: [], facets };
  }
  if (row.kind === 'stream_started') {
    // A stream's first byte was about to go out; its decision record follows (when none does, a crash cut it).
    const policy = record.policy as { id?: unknown; version?: unknown } | undefined;
    row.policy_id = str(policy?.id);
    row.policy_version = str(policy?.version);
    row.summary = `stream started (input ${str(record.input_action) ?? '?'}); its decision follows when it ends`;
    facet('policy_id', row.policy_id);
    return { row, verdicts: [], facets };
  }
  if (row.kind === 'checkpoint') {
    const covers = record.covers as { seq?: unknown } | undefined;
    row.summary = `${str(record.reason) ?? '?'} checkpoint over seq ${typeof covers?.seq === 'number' ? covers.seq : '?'}, key ${str(record.key_id) ?? '?'}`;
    return { row, verdicts: [], facets };
  }
  if (row.kind !== 'decision') return { row, verdicts: [], facets };

  const d = record as Partial<AuditEntry>;
  row.action = str(d.action);
  row.policy_id = str(d.policy?.id);
  row.policy_version = str(d.policy?.version);
  row.error_type = str(d.error?.type);
  row.total_ms = num(d.timings?.total_ms);
  row.capture = str(d.content?.capture);
  facet('policy_id', row.policy_id);
  facet('policy_version', row.policy_version);
  const phases = Array.isArray(d.phases) ? d.phases : [];
  const deciding = new Set<string>();
  const verdicts: VerdictRow[] = [];
  for (const phase of phases) {
    if (typeof phase?.deciding_rule === 'string') deciding.add(phase.deciding_rule);
    for (const v of Array.isArray(phase?.verdicts) ? phase.verdicts : []) {
      const categories = Array.isArray(v?.categories) ? v.categories.filter((c): c is string => typeof c === 'string').map((c) => c.slice(0, 100)) : [];
      const outcome = v ? (verdictOutcome(v) ?? null) : null;
      verdicts.push({
        direction: phase.direction === 'output' ? 'output' : 'input',
        guard: str(v?.guard),
        label: str(v?.label),
        rule_id: str(v?.rule_id),
        mode: str(v?.mode),
        outcome,
        score: num(v?.score),
        latency_ms: num(v?.latency_ms),
        deciding: typeof v?.rule_id === 'string' && phase.deciding_rule === v.rule_id ? 1 : 0,
        categories,
      });
      facet('guard', str(v?.guard));
      facet('label', str(v?.label));
      facet('rule', str(v?.rule_id));
      for (const c of categories) facet('category', c);
    }
  }
  row.rules = deciding.size ? [...deciding].join(' ').slice(0, 500) : null;
  // What the list must not hide: a stream cut after some text went out, an answer sent unchecked.
  const marks = [d.partial === true ? 'partly delivered' : '', d.output_unchecked === 'streaming_off' ? 'answer unchecked (streaming off)' : ''].filter(Boolean);
  const summary = summarize(verdicts, row.error_type);
  row.summary = marks.length ? [summary, ...marks].filter(Boolean).join('; ').slice(0, 500) : summary;
  return { row, verdicts, facets };
}

/** The verdict a reviewer looks at first: a deciding one that acted, else the highest score. */
function summarize(verdicts: VerdictRow[], errorType: string | null): string | null {
  if (verdicts.length === 0) return errorType;
  const rank = (v: VerdictRow) => (v.outcome === 'error' ? 4 : v.outcome === 'block' ? 3 : v.outcome === 'flag' ? 2 : 0) + (v.deciding ? 0.5 : 0);
  const top = [...verdicts].sort((a, b) => rank(b) - rank(a) || (b.score ?? 0) - (a.score ?? 0))[0];
  const score = top.score === null ? '' : ` ${top.score.toFixed(3)}`;
  const cats = top.categories.length ? ` [${top.categories.join(' ')}]` : '';
  const shadow = top.mode === 'shadow' ? ' (shadow)' : '';
  return `${top.direction === 'output' ? 'out: ' : ''}${top.guard ?? '?'} ${top.outcome === 'error' ? 'error' : top.label ?? '?'}${score}${cats}${shadow}`.slice(0, 500);
}

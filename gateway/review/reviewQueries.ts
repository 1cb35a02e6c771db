import type { AuditIndex } from './auditIndex';
import type { DetailModel } from './detailView';
import { FACETS, type Facet } from './indexSchema';
import type { ListRow } from './listView';
import { chartQueries, countQuery, listQuery, spanQuery, type SqlQuery } from './queryBuilder';
import type { ParsedQuery, ReviewFilter } from './reviewFilter';
import { bucketSize, bucketStarts, percentile } from './timeBuckets';

/** Runs the query builder's SQL against the index and shapes the results for the views. */
const PAGE = 50;

function all<T>(index: AuditIndex, q: SqlQuery): T[] {
  return index.db.prepare(q.sql).all(...q.params) as T[];
}

export function facetLists(index: AuditIndex): Record<Facet, string[]> {
  return Object.fromEntries(FACETS.map((f) => [f, index.facetValues(f)])) as Record<Facet, string[]>;
}

export function listResults(index: AuditIndex, query: ParsedQuery): { rows: ListRow[]; total: number; older?: number; newer?: number } {
  let rows = all<ListRow>(index, listQuery(query.filter, query.page, PAGE + 1));
  const ascending = query.page.after !== undefined;
  const more = rows.length > PAGE;
  rows = rows.slice(0, PAGE);
  if (ascending) rows.reverse();
  const total = (all<{ n: number }>(index, countQuery(query.filter))[0]?.n ?? 0) as number;
  if (rows.length === 0) return { rows, total };
  const newest = rows[0].id;
  const oldest = rows[rows.length - 1].id;
  // Without a page parameter this is the newest page; an `after` page knows whether newer ones exist.
  const hasNewer = ascending ? more : query.page.before !== undefined;
  const hasOlder = ascending ? true : more;
  return { rows, total, older: hasOlder ? oldest : undefined, newer: hasNewer ? newest : undefined };
}

export interface ChartsModel {
  bucketMs: number;
  buckets: number[];
  byAction: { bucket: number; key: string; n: number }[];
  blocksByCategory: { bucket: number; key: string; n: number }[];
  blocksByApp: { bucket: number; key: string; n: number }[];
  errors: { bucket: number; key: string; n: number }[];
  topRules: { key: string; n: number }[];
  latency: { guard: string; n: number; p50: number; p95: number; max: number }[];
}

export function chartResults(index: AuditIndex, filter: ReviewFilter): ChartsModel | undefined {
  const span = all<{ lo: number | null; hi: number | null }>(index, spanQuery(filter))[0];
  if (!span || span.lo === null || span.hi === null) return undefined;
  const lo = filter.sinceMs ?? span.lo;
  const hi = filter.untilMs !== undefined ? Math.min(filter.untilMs - 1, span.hi) : span.hi;
  const bucketMs = bucketSize(Math.max(1, hi - lo));
  const q = chartQueries(filter, bucketMs);
  const histogram = all<{ guard: string; ms: number; n: number }>(index, q.guardLatency);
  const byGuard = new Map<string, { ms: number; n: number }[]>();
  for (const h of histogram) (byGuard.get(h.guard) ?? byGuard.set(h.guard, []).get(h.guard)!).push({ ms: h.ms, n: h.n });
  return {
    bucketMs,
    buckets: bucketStarts(lo, hi, bucketMs),
    byAction: all(index, q.byAction),
    blocksByCategory: all(index, q.blocksByCategory),
    blocksByApp: all(index, q.blocksByApp),
    errors: all(index, q.errors),
    topRules: all(index, q.topRules),
    latency: [...byGuard].map(([guard, h]) => ({ guard, n: h.reduce((s, x) => s + x.n, 0), p50: percentile(h, 50), p95: percentile(h, 95), max: h[h.length - 1].ms })),
  };
}

interface RecordPosition {
  id: number;
  file: string;
  line: number;
  offset: number;
  length: number;
  hash: string | null;
}

export function recordDetail(index: AuditIndex, file: string, line: number): DetailModel | undefined {
  const row = index.db.prepare('SELECT id, file, line, offset, length, hash FROM records WHERE file = ? AND line = ?').get(file, line) as RecordPosition | undefined;
  if (!row) return undefined;
  const read = index.readRecord(row);
  let record: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = read.text === undefined ? undefined : JSON.parse(read.text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed as Record<string, unknown>;
  } catch {
    record = undefined;
  }
  if (read.changed) void index.refresh();
  const problems = index.db.prepare('SELECT kind, message FROM problems WHERE record_id = ? ORDER BY id').all(row.id) as { kind: string; message: string }[];
  const checkpoint = index.db.prepare('SELECT status, message FROM checkpoints WHERE record_id = ?').get(row.id) as { status: string; message: string } | undefined;
  return { file: row.file, line: row.line, record, changed: read.changed, problems, checkpoint };
}

export interface ChainModel {
  problems: { file: string; line: number; seq: number | null; kind: string; message: string }[];
  checkpoints: { file: string; line: number; seq: number | null; status: string; message: string }[];
  checkpointCount: number;
}

export function chainDetails(index: AuditIndex): ChainModel {
  const problems = index.db.prepare('SELECT file, line, seq, kind, message FROM problems ORDER BY id LIMIT 200').all() as ChainModel['problems'];
  // The latest checkpoints, and every one that failed (up to a bound).
  const checkpoints = index.db
    .prepare(
      "SELECT r.file, r.line, c.seq, c.status, c.message FROM checkpoints c JOIN records r ON r.id = c.record_id WHERE c.record_id IN (SELECT record_id FROM checkpoints WHERE status NOT IN ('valid', 'unknown_key') ORDER BY record_id LIMIT 100) OR c.record_id IN (SELECT record_id FROM checkpoints ORDER BY record_id DESC LIMIT 20) ORDER BY c.record_id DESC",
    )
    .all() as ChainModel['checkpoints'];
  const { n } = index.db.prepare('SELECT COUNT(*) AS n FROM checkpoints').get() as { n: number };
  return { problems, checkpoints, checkpointCount: n };
}

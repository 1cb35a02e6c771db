import type { ReviewFilter } from './reviewFilter';

/** The ids the gateway issues (pipeline/requestContext.ts): `req_` and 32 hex digits. */
const GATEWAY_REQUEST_ID = /^req_[0-9a-f]{32}$/;

/**
 * Pure: SQL for the review page from a filter. Only column names written here reach the SQL text;
 * every value a reviewer typed is a bound parameter.
 */
export interface SqlQuery {
  sql: string;
  params: (string | number)[];
}

/** The WHERE clause over `records r` (empty when nothing is filtered). */
export function whereClause(filter: ReviewFilter): SqlQuery {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  const eq = (column: string, value: string | number | undefined) => {
    if (value === undefined) return;
    conditions.push(`${column} = ?`);
    params.push(value);
  };
  if (filter.sinceMs !== undefined) {
    conditions.push('r.received_ms >= ?');
    params.push(filter.sinceMs);
  }
  if (filter.untilMs !== undefined) {
    conditions.push('r.received_ms < ?');
    params.push(filter.untilMs);
  }
  eq('r.app', filter.app);
  eq('r.key_id', filter.keyId);
  eq('r.route', filter.route);
  eq('r.kind', filter.kind);
  if (filter.action !== undefined) {
    // An action belongs to decisions; refusals carry their kind in the same column.
    conditions.push("r.kind = 'decision' AND r.action = ?");
    params.push(filter.action);
  }
  eq('r.policy_id', filter.policyId);
  eq('r.policy_version', filter.policyVersion);
  if (filter.requestId !== undefined) {
    // An id of the gateway's own shape names one request: a client that sent it as its own id
    // (another app's, on purpose) would otherwise be listed beside it.
    if (GATEWAY_REQUEST_ID.test(filter.requestId)) conditions.push('r.request_id = ?');
    else conditions.push('(r.request_id = ? OR r.client_request_id = ?)');
    params.push(filter.requestId);
    if (!GATEWAY_REQUEST_ID.test(filter.requestId)) params.push(filter.requestId);
  }
  eq('r.trace_id', filter.traceId);

  const verdict: string[] = [];
  const verdictParams: (string | number)[] = [];
  const veq = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    verdict.push(`${column} = ?`);
    verdictParams.push(value);
  };
  veq('v.guard', filter.guard);
  veq('v.label', filter.label);
  veq('v.rule_id', filter.rule);
  veq('v.outcome', filter.verdict);
  veq('v.mode', filter.mode);
  if (filter.category !== undefined) {
    verdict.push('v.id IN (SELECT c.verdict_id FROM verdict_categories c WHERE c.category = ?)');
    verdictParams.push(filter.category);
  }
  if (verdict.length) {
    // One verdict must meet all of them: "a llama_guard verdict in S2", not any mix.
    conditions.push(`r.id IN (SELECT v.record_id FROM verdicts v WHERE ${verdict.join(' AND ')})`);
    params.push(...verdictParams);
  }
  return { sql: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** Appends a condition to a WHERE clause. */
function and(where: SqlQuery, condition: string, params: (string | number)[] = []): SqlQuery {
  return { sql: where.sql ? `${where.sql} AND ${condition}` : `WHERE ${condition}`, params: [...where.params, ...params] };
}

export const LIST_COLUMNS = 'r.id, r.file, r.line, r.seq, r.kind, r.received_ms, r.ts, r.request_id, r.app, r.key_id, r.route, r.action, r.status, r.policy_id, r.policy_version, r.rules, r.summary, r.problem';

/** One page, newest first: `before` (an id) pages to older records, `after` to newer ones. */
export function listQuery(filter: ReviewFilter, page: { before?: number; after?: number }, limit: number): SqlQuery {
  let where = whereClause(filter);
  if (page.after !== undefined) {
    where = and(where, 'r.id > ?', [page.after]);
    // The page just after `after`, read upwards, shown newest first by the caller.
    return { sql: `SELECT ${LIST_COLUMNS} FROM records r ${where.sql} ORDER BY r.id ASC LIMIT ?`, params: [...where.params, limit] };
  }
  if (page.before !== undefined) where = and(where, 'r.id < ?', [page.before]);
  return { sql: `SELECT ${LIST_COLUMNS} FROM records r ${where.sql} ORDER BY r.id DESC LIMIT ?`, params: [...where.params, limit] };
}

export function countQuery(filter: ReviewFilter): SqlQuery {
  const where = whereClause(filter);
  return { sql: `SELECT COUNT(*) AS n FROM records r ${where.sql}`, params: where.params };
}

/** Ids of the matching records in chain order, `afterId` onwards (exports read in slices). */
export function exportIdsQuery(filter: ReviewFilter, afterId: number, limit: number): SqlQuery {
  const where = and(whereClause(filter), 'r.id > ?', [afterId]);
  return { sql: `SELECT r.id, r.file, r.line, r.offset, r.length FROM records r ${where.sql} ORDER BY r.id ASC LIMIT ?`, params: [...where.params, limit] };
}

/** The time span of the matching decisions (to pick chart buckets). */
export function spanQuery(filter: ReviewFilter): SqlQuery {
  const where = and(whereClause(filter), 'r.received_ms IS NOT NULL');
  return { sql: `SELECT MIN(r.received_ms) AS lo, MAX(r.received_ms) AS hi FROM records r ${where.sql}`, params: where.params };
}

/** Chart series: bucketed counts. `bucketMs` is a whole number chosen by the caller. */
export function chartQueries(filter: ReviewFilter, bucketMs: number): Record<'byAction' | 'blocksByCategory' | 'blocksByApp' | 'topRules' | 'errors' | 'guardLatency', SqlQuery> {
  const where = whereClause(filter);
  const decisions = and(where, "r.kind = 'decision'");
  const blocks = and(where, "r.kind = 'decision' AND r.action = 'block'");
  const bucket = `(r.received_ms / ${Math.max(1, Math.floor(bucketMs))}) * ${Math.max(1, Math.floor(bucketMs))}`;
  return {
    byAction: { sql: `SELECT ${bucket} AS bucket, r.action AS key, COUNT(*) AS n FROM records r ${decisions.sql} GROUP BY bucket, key`, params: decisions.params },
    blocksByCategory: {
      sql: `SELECT ${bucket} AS bucket, c.category AS key, COUNT(DISTINCT r.id) AS n FROM records r JOIN verdict_categories c ON c.record_id = r.id JOIN verdicts v ON v.id = c.verdict_id ${blocks.sql} AND v.outcome IN ('flag', 'block') GROUP BY bucket, key`,
      params: blocks.params,
    },
    blocksByApp: { sql: `SELECT ${bucket} AS bucket, r.app AS key, COUNT(*) AS n FROM records r ${blocks.sql} GROUP BY bucket, key`, params: blocks.params },
    topRules: (() => {
      const deciding = and(where, "r.kind = 'decision' AND r.action IN ('flag', 'block') AND v.deciding = 1");
      return { sql: `SELECT v.rule_id AS key, COUNT(DISTINCT r.id) AS n FROM records r JOIN verdicts v ON v.record_id = r.id ${deciding.sql} GROUP BY key ORDER BY n DESC LIMIT 10`, params: deciding.params };
    })(),
    errors: (() => {
      const requests = and(where, "r.kind IN ('decision', 'unauthenticated', 'rate_limited', 'invalid_request', 'policy_unavailable')");
      const key = "CASE WHEN r.kind = 'decision' AND r.action = 'error' THEN 'guard fault' WHEN r.kind = 'decision' AND r.status >= 500 THEN 'other 5xx' WHEN r.kind = 'decision' THEN 'ok' ELSE r.kind END";
      // A refusal summary counts as the refusals it stands for.
      return { sql: `SELECT ${bucket} AS bucket, ${key} AS key, SUM(r.requests) AS n FROM records r ${requests.sql} GROUP BY bucket, key`, params: requests.params };
    })(),
    // A histogram at 0.1 ms: percentiles from one grouped pass instead of sorting every verdict.
    guardLatency: (() => {
      const timed = and(where, 'v.latency_ms IS NOT NULL');
      return { sql: `SELECT v.guard AS guard, ROUND(v.latency_ms, 1) AS ms, COUNT(*) AS n FROM records r JOIN verdicts v ON v.record_id = r.id ${timed.sql} GROUP BY guard, ms ORDER BY guard, ms`, params: timed.params };
    })(),
  };
}

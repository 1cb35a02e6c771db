import { z } from 'zod';
import { parseTime } from '../audit/auditQuery';

/**
 * The page's filters, from the query string (zod at the edge). Record filters match the record;
 * verdict filters (guard, label, category, rule, verdict, mode) must all hold for one verdict of it.
 */
export interface ReviewFilter {
  sinceMs?: number;
  untilMs?: number;
  app?: string;
  keyId?: string;
  route?: string;
  kind?: RecordKind;
  action?: 'allow' | 'flag' | 'block' | 'error';
  policyId?: string;
  policyVersion?: string;
  /** The gateway's request id or the client's. */
  requestId?: string;
  traceId?: string;
  guard?: string;
  label?: string;
  category?: string;
  rule?: string;
  /** A verdict's own outcome: the action its rule asked for, or `error` for a failed guard. */
  verdict?: 'allow' | 'flag' | 'block' | 'error';
  mode?: 'enforce' | 'shadow';
}

export const RECORD_KINDS = ['decision', 'unauthenticated', 'rate_limited', 'invalid_request', 'policy_unavailable', 'stream_started', 'checkpoint', 'unreadable'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];
export const ACTIONS = ['allow', 'flag', 'block', 'error'] as const;
export const MODES = ['enforce', 'shadow'] as const;

/** The filter names in the query string, in form order; `since`/`until` hold the text as typed. */
export const FILTER_PARAMS = ['since', 'until', 'app', 'key_id', 'route', 'kind', 'action', 'policy_id', 'policy_version', 'request_id', 'trace_id', 'guard', 'label', 'category', 'rule', 'verdict', 'mode'] as const;
export type FilterParam = (typeof FILTER_PARAMS)[number];

// An empty field in a submitted form means "any".
const text = z
  .string()
  .trim()
  .max(200, 'at most 200 characters')
  .optional()
  .transform((v) => (v ? v : undefined));
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.literal(''), z.enum(values)])
    .optional()
    .transform((v) => (v ? v : undefined));

const QuerySchema = z.object({
  since: text,
  until: text,
  app: text,
  key_id: text,
  route: text,
  kind: oneOf(RECORD_KINDS),
  action: oneOf(ACTIONS),
  policy_id: text,
  policy_version: text,
  request_id: text,
  trace_id: text,
  guard: text,
  label: text,
  category: text,
  rule: text,
  verdict: oneOf(ACTIONS),
  mode: oneOf(MODES),
  before: z.coerce.number().int().positive().optional(),
  after: z.coerce.number().int().min(0).optional(),
});

export interface ParsedQuery {
  filter: ReviewFilter;
  /** The filter values as given (for the form and for links), without empty ones. */
  params: Partial<Record<FilterParam, string>>;
  page: { before?: number; after?: number };
}

export type QueryResult = { ok: true; query: ParsedQuery } | { ok: false; errors: string[]; params: Partial<Record<FilterParam, string>> };

/** Pure: the query string (as express parses it) to a filter, or what is wrong with it. Unknown parameters are ignored. */
export function parseReviewQuery(query: Record<string, unknown>, now: Date): QueryResult {
  const params = echoParams(query);
  const parsed = QuerySchema.safeParse(query);
  if (!parsed.success) {
    return { ok: false, params, errors: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.code === 'invalid_type' ? 'give it once, as text' : i.message}`) };
  }
  const q = parsed.data;
  const errors: string[] = [];
  const time = (name: 'since' | 'until', value: string | undefined): number | undefined => {
    if (!value) return undefined;
    try {
      return parseTime(value, now).getTime();
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const filter: ReviewFilter = {
    sinceMs: time('since', q.since),
    untilMs: time('until', q.until),
    app: q.app,
    keyId: q.key_id,
    route: q.route,
    kind: q.kind,
    action: q.action,
    policyId: q.policy_id,
    policyVersion: q.policy_version,
    requestId: q.request_id,
    traceId: q.trace_id,
    guard: q.guard,
    label: q.label,
    category: q.category,
    rule: q.rule,
    verdict: q.verdict,
    mode: q.mode,
  };
  if (filter.sinceMs !== undefined && filter.untilMs !== undefined && filter.sinceMs >= filter.untilMs) errors.push('since: must be before until');
  if (errors.length) return { ok: false, params, errors };
  return { ok: true, query: { filter: stripUndefined(filter), params, page: { before: q.before, after: q.after } } };
}

/** Pure: the query string of a set of filter values (for links: pages, charts, exports). */
export function queryString(params: Partial<Record<FilterParam, string>>, extra: Record<string, string | number | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const name of FILTER_PARAMS) {
    const value = params[name];
    if (value) search.set(name, value);
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}

/** The filter fields as strings, for echoing back into the form (even when invalid). */
function echoParams(query: Record<string, unknown>): Partial<Record<FilterParam, string>> {
  const out: Partial<Record<FilterParam, string>> = {};
  for (const name of FILTER_PARAMS) {
    const value = query[name];
    if (typeof value === 'string' && value.trim() !== '') out[name] = value.trim().slice(0, 200);
  }
  return out;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

import type { RejectionKind, RejectionRecord, RejectionStatus } from '../record/requestRecord';

/**
 * A request refused before any policy ran, as the audit log keeps it: `unauthenticated` (401: no
 * key, or a key the gateway does not know), `rate_limited` (429: which limit, its size, what was
 * asked), `invalid_request` (400, 413, 415 on a guarded route before its guarded call: the error
 * code as `reason`, the member it names as `param`; or a passthrough path refused 400
 * invalid_path) or `policy_unavailable` (503 on a guarded route: the key assigns a policy the
 * gateway has not loaded; that id as `policy_id`). Its own kind, next to `decision`, so `audit query --kind` and `audit stats`
 * count refusals apart from content decisions. Never holds the
 * presented key, not even part of it, nor any of the request's content.
 */
export interface RejectionEntry {
  v: 1;
  kind: RejectionKind;
  request_id: string;
  client_request_id?: string;
  received_at: string;
  /** Known for a 429, an invalid_request and a policy_unavailable (the key named it, or `anonymous` without keys); absent for a 401. */
  app?: string;
  key_id?: string;
  client?: string;
  method: string;
  route: string;
  status: RejectionStatus;
  reason: string;
  /** invalid_request: the request member the error names (a member path, never a value). */
  param?: string;
  /** policy_unavailable: the policy id the key assigns, which the gateway has not loaded (operator config, bounded to 100). */
  policy_id?: string;
  /** invalid_request refused by the resolved policy's own settings (control tokens): the policy that refused it. */
  policy?: { id: string; version: string };
  limit?: { kind: 'requests' | 'tokens' | 'concurrency'; limit: number; requested: number };
  /**
   * A summary of a flood (`audit.refusals`): this record stands for `count` refusals of its kind,
   * status and reason from one source (its key, else its client address), the first described by
   * the fields above, the last at `last_at`; `other_sources`: from sources past `max_sources`, no client, key or app named.
   */
  repeats?: { count: number; last_at: string; last_request_id: string; other_sources?: true };
}

/** How many refusals one log line stands for: 1, or a summary's count (tolerant of an edited line). */
export function refusalsIn(entry: { repeats?: { count?: unknown } }): number {
  const count = entry.repeats?.count;
  return typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 1;
}

/** Pure: the audit entry of a refusal. */
export function toRejectionEntry(rejection: RejectionRecord): RejectionEntry {
  const entry: RejectionEntry = {
    v: 1,
    kind: rejection.kind,
    request_id: rejection.requestId,
    received_at: rejection.receivedAt,
    method: rejection.method,
    route: rejection.route,
    status: rejection.status,
    reason: rejection.reason,
  };
  if (rejection.clientRequestId) entry.client_request_id = rejection.clientRequestId;
  if (rejection.app) entry.app = rejection.app;
  if (rejection.keyId) entry.key_id = rejection.keyId;
  if (rejection.client) entry.client = rejection.client;
  if (rejection.param) entry.param = rejection.param;
  if (rejection.policyId) entry.policy_id = rejection.policyId;
  if (rejection.policy) entry.policy = { ...rejection.policy };
  if (rejection.limit) entry.limit = { ...rejection.limit };
  if (rejection.repeats) {
    const { count, lastAt, lastRequestId, otherSources } = rejection.repeats;
    entry.repeats = { count, last_at: lastAt, last_request_id: lastRequestId, ...(otherSources ? { other_sources: true as const } : {}) };
  }
  return entry;
}

/** Pure: a refusal in one line for tables and lists: its reason, with the limit (429), the member named (400) or the policy not loaded (503). */
export function refusalSummary(entry: { reason?: unknown; param?: unknown; policy_id?: unknown; limit?: { limit?: unknown; requested?: unknown }; repeats?: { count?: unknown; last_at?: unknown } }): string {
  const detail = refusalDetail(entry);
  if (!entry.repeats) return detail;
  const lastAt = typeof entry.repeats.last_at === 'string' ? ` until ${entry.repeats.last_at.slice(0, 40)}` : '';
  return `${detail} x${refusalsIn(entry)} (summary${lastAt})`;
}

function refusalDetail(entry: { reason?: unknown; param?: unknown; policy_id?: unknown; limit?: { limit?: unknown; requested?: unknown } }): string {
  const reason = typeof entry.reason === 'string' ? entry.reason : '?';
  if (typeof entry.policy_id === 'string' && entry.policy_id) return `${reason} (policy ${entry.policy_id})`;
  if (entry.limit) return `${reason} (limit ${String(entry.limit.limit)}, requested ${String(entry.limit.requested)})`;
  if (typeof entry.param === 'string' && entry.param) return `${reason} (${entry.param})`;
  return reason;
}

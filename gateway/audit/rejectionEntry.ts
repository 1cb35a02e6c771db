import type { RejectionRecord } from '../record/requestRecord';

/**
 * A request refused before any policy ran, as the audit log keeps it: `unauthenticated` (401: no
 * key, or a key the gateway does not know) or `rate_limited` (429: which limit, its size, what was
 * asked). Its own kind, next to `decision`, so `audit query --kind` and `audit stats` count refusals
 * apart from content decisions. Never holds the presented key, not even part of it.
 */
export interface RejectionEntry {
  v: 1;
  kind: 'unauthenticated' | 'rate_limited';
  request_id: string;
  client_request_id?: string;
  received_at: string;
  /** Known for a 429 (the key named it); absent for a 401. */
  app?: string;
  key_id?: string;
  client?: string;
  method: string;
  route: string;
  status: 401 | 429;
  reason: string;
  limit?: { kind: 'requests' | 'tokens' | 'concurrency'; limit: number; requested: number };
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
  if (rejection.limit) entry.limit = { ...rejection.limit };
  return entry;
}

import type { Action } from '../../policies/schema';
import type { StreamStart } from '../record/requestRecord';
import type { AuditEntry } from './auditEntry';

/**
 * A stream's start as the audit log keeps it (kind `stream_started`), written before its first
 * byte: the decision record follows when the stream ends, so a start without one is a stream still
 * open, or one a crash cut (`audit stats` lists them). No content, as in every capture mode.
 */
export type StreamStartEntry = Pick<AuditEntry, 'v' | 'request_id' | 'client_request_id' | 'received_at' | 'app' | 'key_id' | 'trace_id' | 'route' | 'model' | 'policy'> & {
  kind: 'stream_started';
  /** The input phase's action (allow or flag: a blocked input sends no stream). */
  input_action: Action;
};

/** Pure: the audit entry of a stream's start. */
export function toStreamStartEntry(start: StreamStart): StreamStartEntry {
  return {
    v: 1,
    kind: 'stream_started',
    request_id: start.requestId,
    ...(start.clientRequestId ? { client_request_id: start.clientRequestId } : {}),
    received_at: start.receivedAt,
    app: start.app,
    ...(start.keyId ? { key_id: start.keyId } : {}),
    ...(start.traceId ? { trace_id: start.traceId } : {}),
    route: start.route,
    ...(start.model ? { model: start.model } : {}),
    policy: { id: start.policy.id, version: start.policy.version },
    input_action: start.inputAction,
  };
}

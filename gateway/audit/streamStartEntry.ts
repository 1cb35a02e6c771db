import type { Action } from '../../policies/schema';
import type { StreamStart } from '../record/requestRecord';

/**
 * A stream's start as the audit log keeps it (kind `stream_started`), written before its first
 * byte: the decision record follows when the stream ends, so a start without one is a stream a
 * crash cut (`audit stats` lists them). No content, as in every capture mode.
 */
export interface StreamStartEntry {
  v: 1;
  kind: 'stream_started';
  request_id: string;
  client_request_id?: string;
  received_at: string;
  app: string;
  key_id?: string;
  trace_id?: string;
  route: string;
  model?: string;
  policy: { id: string; version: string };
  input_action: Action;
}

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

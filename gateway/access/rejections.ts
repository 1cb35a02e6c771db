import type { IncomingMessage, ServerResponse } from 'node:http';
import { UnauthenticatedError } from './auth/authenticate';
import type { ApiError } from '../errors';
import { RateLimitError } from './rateLimit/rateLimitError';
import { contextOf } from '../pipeline/requestContext';
import type { DecisionRecorder, RejectionRecord } from '../record/requestRecord';
import { recordAuthRejection, recordInvalidRequestRejection, recordRateLimitRejection } from '../telemetry/metrics';

/** What a guarded route answers a request it will not start a guarded call for: 400, 413 (body too large), 415 (not JSON). */
const INVALID_REQUEST_STATUSES: ReadonlySet<number> = new Set([400, 413, 415]);

/**
 * A member path as the gateway's errors name one (`chat_template`, `messages.0.role`,
 * `input[2].encrypted_content`). A `param` outside it (an unknown key holding free text) is not
 * recorded: the audit log keeps no request content, not even in a key name.
 */
const MEMBER_PATH = /^[\w.[\]$:@/-]{1,200}$/;

/**
 * 401s and 429s are decisions too, and so is a guarded route's refusal of a request before its
 * guarded call starts (invalid JSON, a schema failure, a field the gateway cannot check, a body
 * over a hardening limit): each one is audited as its own kind and counted in metrics.
 * `rejectionOf` says what to record (undefined for every other error, and for a 4xx on any route
 * but the guarded ones: a 404, a passthrough's own error).
 */
export function rejectionOf(error: ApiError, req: IncomingMessage, res: ServerResponse, client: string | undefined): RejectionRecord | undefined {
  const ctx = contextOf(res);
  const invalid = ctx.guardedRoute !== undefined && error.type === 'invalid_request_error' && INVALID_REQUEST_STATUSES.has(error.status);
  if (!(error instanceof UnauthenticatedError) && !(error instanceof RateLimitError) && !invalid) return undefined;
  const base = {
    requestId: ctx.requestId,
    clientRequestId: ctx.clientRequestId,
    receivedAt: ctx.receivedAt.toISOString(),
    client,
    method: req.method ?? '',
    route: ((req as { originalUrl?: string }).originalUrl ?? req.url ?? '').split('?')[0].slice(0, 200),
  };
  if (error instanceof UnauthenticatedError) return { ...base, kind: 'unauthenticated', status: 401, reason: error.reason };
  if (error instanceof RateLimitError) {
    return {
      ...base,
      kind: 'rate_limited',
      status: 429,
      reason: error.reason,
      app: ctx.app,
      keyId: ctx.keyId,
      limit: { ...error.limit },
    };
  }
  // Authentication ran before the body was read, so the app (and key) are known here.
  return {
    ...base,
    route: ctx.guardedRoute!,
    kind: 'invalid_request',
    status: error.status as 400 | 413 | 415,
    reason: (error.code ?? 'invalid_request').slice(0, 100),
    ...(error.param !== null && MEMBER_PATH.test(error.param) ? { param: error.param } : {}),
    app: ctx.app,
    keyId: ctx.keyId,
  };
}

/**
 * Counts the refusal and records it (durably, before the 401/429/400 goes out). A refusal stands
 * even when the audit log cannot take it: nothing was served, and /readyz already reports the log's problem.
 */
export async function reportRejection(recorder: DecisionRecorder, rejection: RejectionRecord): Promise<void> {
  try {
    if (rejection.kind === 'rate_limited') recordRateLimitRejection(rejection.app ?? 'unknown', rejection.limit?.kind ?? 'requests', rejection.reason);
    else if (rejection.kind === 'invalid_request') recordInvalidRequestRejection(rejection.route, rejection.app ?? 'unknown', rejection.reason);
    else recordAuthRejection(rejection.reason);
  } catch {
    /* metrics are best effort */
  }
  await recorder.recordRejection?.(rejection).catch(() => undefined);
}

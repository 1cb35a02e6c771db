import type { IncomingMessage, ServerResponse } from 'node:http';
import { UnauthenticatedError } from './auth/authenticate';
import type { ApiError } from '../errors';
import { RateLimitError } from './rateLimit/rateLimitError';
import { contextOf } from '../pipeline/requestContext';
import type { DecisionRecorder, RejectionRecord } from '../record/requestRecord';
import { recordAuthRejection, recordRateLimitRejection } from '../telemetry/metrics';

/**
 * 401s and 429s are decisions too: each one is audited as its own kind and counted in metrics.
 * `rejectionOf` says what to record (undefined for every other error).
 */
export function rejectionOf(error: ApiError, req: IncomingMessage, res: ServerResponse, client: string | undefined): RejectionRecord | undefined {
  if (!(error instanceof UnauthenticatedError) && !(error instanceof RateLimitError)) return undefined;
  const ctx = contextOf(res);
  const base = {
    requestId: ctx.requestId,
    clientRequestId: ctx.clientRequestId,
    receivedAt: ctx.receivedAt.toISOString(),
    client,
    method: req.method ?? '',
    route: ((req as { originalUrl?: string }).originalUrl ?? req.url ?? '').split('?')[0].slice(0, 200),
  };
  if (error instanceof UnauthenticatedError) return { ...base, kind: 'unauthenticated', status: 401, reason: error.reason };
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

/**
 * Counts the refusal and records it (durably, before the 401/429 goes out). A refusal stands even
 * when the audit log cannot take it: nothing was served, and /readyz already reports the log's problem.
 */
export async function reportRejection(recorder: DecisionRecorder, rejection: RejectionRecord): Promise<void> {
  try {
    if (rejection.kind === 'rate_limited') recordRateLimitRejection(rejection.app ?? 'unknown', rejection.limit?.kind ?? 'requests', rejection.reason);
    else recordAuthRejection(rejection.reason);
  } catch {
    /* metrics are best effort */
  }
  await recorder.recordRejection?.(rejection).catch(() => undefined);
}

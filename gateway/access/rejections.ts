import type { IncomingMessage, ServerResponse } from 'node:http';
import { UnauthenticatedError } from './auth/authenticate';
import { InvalidPathError, PolicyRefusedFieldError, UnknownFieldError, UnknownPolicyError, type ApiError } from '../errors';
import { RateLimitError } from './rateLimit/rateLimitError';
import { recordedParam } from './recordedParam';
import { GUARDED_ROUTES } from '../../policies/guardedRoutes';
import { contextOf } from '../pipeline/requestContext';
import type { DecisionRecorder, RejectionRecord } from '../record/requestRecord';
import { recordAuthRejection, recordInvalidRequestRejection, recordPolicyUnavailableRejection, recordRateLimitRejection } from '../telemetry/metrics';

/** What a guarded route answers a request it will not start a guarded call for: 400, 408 (its body too slow), 413 (body too large), 415 (not JSON). */
// 499 and 503: a body the client's leaving (or shutdown) cut short (routes/errorAnswer.ts).
const INVALID_REQUEST_STATUSES: ReadonlySet<number> = new Set([400, 408, 413, 415, 499, 503]);

/**
 * A member path as the gateway's errors name one (`chat_template`, `messages.0.role`,
 * `input[2].encrypted_content`). A `param` outside it (an unknown key holding free text) is not
 * recorded: the audit log keeps no request content, not even in a key name.
 */
const MEMBER_PATH = /^[\w.[\]$:@/-]{1,200}$/;

/** The metrics route label of a passthrough's invalid_path refusal: the audit record keeps the path itself, a label must not (unbounded, client-chosen). */
const PASSTHROUGH_ROUTE_LABEL = '/v1/*';

/**
 * The path of a request target as the client sent it (not decoded), bounded to 200 characters:
 * no query string or fragment, and for a target in absolute form (`http://user:pass@host/...`) no
 * scheme or authority, so the record carries the path and nothing else of the request.
 */
export function requestPathOf(target: string): string {
  let path = target.split(/[?#]/, 1)[0];
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (authority) path = path.slice(authority[0].length) || '/';
  return path.slice(0, 200);
}

/**
 * Pure: a refusal's route as records and metrics name it: a guarded route by its pattern however
 * the client spelled it (express serves `/V1/Chat/Completions/` as `/v1/chat/completions`, and a
 * reviewer filtering by route must find its 401s and 429s), any other path as sent.
 */
export function recordedRoute(path: string): string {
  const key = path.length > 1 && path.endsWith('/') ? path.slice(0, -1).toLowerCase() : path.toLowerCase();
  return (GUARDED_ROUTES as readonly string[]).includes(key) ? key : path;
}

/** Pure: a route as a metric label: a guarded route's pattern, else one label for every other path (client-chosen, unbounded). */
function routeLabel(route: string): string {
  return (GUARDED_ROUTES as readonly string[]).includes(route) ? route : PASSTHROUGH_ROUTE_LABEL;
}

/**
 * 401s and 429s are decisions too, and so is a guarded route's refusal of a request before its
 * guarded call starts (invalid JSON, a schema failure, a field the gateway cannot check, a body
 * over a hardening limit): each one is audited as its own kind and counted in metrics.
 * So is a passthrough path refused as invalid_path (400: it needed normalising and then reached a
 * guarded route or left /v1/), a probe for a way around the guards. So is a guarded or passthrough route's 503
 * policy_unavailable (the key assigns a policy id the gateway has not loaded): a configuration
 * fault rather than the client's doing, hence its own kind, but still a refusal a reviewer must see.
 * `rejectionOf` says what to record (undefined for every other error, and for a 4xx on any other
 * route: a 404, a passthrough's 404 for an unlisted route, the engine's own error).
 */
export function rejectionOf(error: ApiError, req: IncomingMessage, res: ServerResponse, client: string | undefined): RejectionRecord | undefined {
  const ctx = contextOf(res);
  const invalid = ctx.guardedRoute !== undefined && error.type === 'invalid_request_error' && INVALID_REQUEST_STATUSES.has(error.status);
  const probe = error instanceof InvalidPathError;
  const unknownPolicy = error instanceof UnknownPolicyError;
  if (!(error instanceof UnauthenticatedError) && !(error instanceof RateLimitError) && !invalid && !probe && !unknownPolicy) return undefined;
  const base = {
    requestId: ctx.requestId,
    clientRequestId: ctx.clientRequestId,
    receivedAt: ctx.receivedAt.toISOString(),
    client,
    method: req.method ?? '',
    route: recordedRoute(requestPathOf((req as { originalUrl?: string }).originalUrl ?? req.url ?? '')),
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
  if (unknownPolicy) {
    // The id comes from the key's config, not the request; bounded like the error message that names it.
    return { ...base, route: ctx.guardedRoute ?? base.route, kind: 'policy_unavailable', status: 503, reason: 'policy_unavailable', app: ctx.app, keyId: ctx.keyId, policyId: error.policyId.slice(0, 100) };
  }
  // A passthrough's invalid_path: no route pattern matched, so the route is the path as sent (base.route).
  // Authentication ran before the passthrough route (and before a guarded route's body read), so the app (and key) are known here.
  if (probe) return { ...base, kind: 'invalid_request', status: 400, reason: 'invalid_path', app: ctx.app, keyId: ctx.keyId };
  return {
    ...base,
    route: ctx.guardedRoute!,
    kind: 'invalid_request',
    status: error.status as 400 | 408 | 413 | 415 | 499 | 503,
    reason: (error.code ?? 'invalid_request').slice(0, 100),
    ...paramOf(error),
    ...(ctx.policy ? { policy: { ...ctx.policy } } : {}),
    app: ctx.app,
    keyId: ctx.keyId,
  };
}

/** The member the error names, as far as the record may keep it (recordedParam: no client-chosen names). */
function paramOf(error: ApiError): { param?: string } {
  if (error.param === null || error instanceof UnknownFieldError || !MEMBER_PATH.test(error.param)) return {};
  const param = error instanceof PolicyRefusedFieldError ? error.param : recordedParam(error.param);
  return param === undefined ? {} : { param };
}

/**
 * Counts the refusal and records it (durably, before the 401/429/400/503 goes out). A refusal stands
 * even when the audit log cannot take it: nothing was served, and /readyz already reports the log's problem.
 */
export async function reportRejection(recorder: DecisionRecorder, rejection: RejectionRecord): Promise<void> {
  try {
    if (rejection.kind === 'rate_limited') recordRateLimitRejection(rejection.app ?? 'unknown', rejection.limit?.kind ?? 'requests', rejection.reason);
    else if (rejection.kind === 'policy_unavailable') recordPolicyUnavailableRejection(routeLabel(rejection.route), rejection.app ?? 'unknown', rejection.policyId ?? 'unknown');
    else if (rejection.kind === 'invalid_request') recordInvalidRequestRejection(routeLabel(rejection.route), rejection.app ?? 'unknown', rejection.reason);
    else recordAuthRejection(rejection.reason);
  } catch {
    /* metrics are best effort */
  }
  await recorder.recordRejection?.(rejection).catch(() => undefined);
}

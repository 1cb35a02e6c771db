import type { IncomingMessage, ServerResponse } from 'node:http';
import { parserAnswer } from '../access/hardening/clientErrors';
import { rejectionOf, reportRejection } from '../access/rejections';
import { ApiError, badRequest, sendError } from '../errors';
import type { PolicyHolder } from '../pipeline/runtime/policyRuntime';
import { contextOf, setSafetyHeaders } from '../pipeline/requestContext';
import type { InFlightCalls } from '../pipeline/inFlightCalls';
import { connectionClosedOutcome } from '../pipeline/connectionCut';
import type { DecisionRecorder } from '../record/requestRecord';

export interface ErrorAnswerDeps {
  policies: PolicyHolder;
  recorder: DecisionRecorder;
  bodyLimitBytes: number;
  clientOf(req: IncomingMessage): string | undefined;
  /** Refusals on their way to a record, for shutdown to wait on. */
  inFlight?: InFlightCalls;
}

/**
 * How any request that failed before its answer went out is answered, on either path (the guarded
 * routes' own, express's for the rest): an OpenAI-shaped error, never a stack; a 401 or 429, and
 * a guarded route's 400, 413, 415 or 503 policy_unavailable before its guarded call, recorded
 * (audit log, metrics) before it goes out, like any decision.
 */
export function errorAnswerer(deps: ErrorAnswerDeps): (err: unknown, req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (err, req, res) => {
    // The parser already answered a slow body 408 (clientErrors.ts): the record says so, not "aborted".
    const answered = parserAnswer(res);
    const apiError = answered
      ? new ApiError(answered.status, 'The request was not received in time.', 'invalid_request_error', answered.code)
      : bodyCutShort(req, err)
        ? closedDuringBody(res)
        : toApiError(err, deps.bodyLimitBytes);
    const rejection = rejectionOf(apiError, req, res, deps.clientOf(req));
    deps.inFlight?.hold(res);
    try {
      if (rejection) await reportRejection(deps.recorder, rejection);
    } finally {
      deps.inFlight?.end(res);
    }
    // The policy that refused it, as its record names it: a reload during the record's write must
    // not make the answer name a version that never saw the request.
    const resolved = contextOf(res)?.policy;
    let ref: string | undefined = resolved ? `${resolved.id}@${resolved.version}` : undefined;
    if (!ref) {
      try {
        ref = deps.policies.current(contextOf(res)?.policyId).ref;
      } catch {
        ref = undefined;
      }
    }
    // No guard ran on a request refused before its guarded call (or on a route that has none): nothing was allowed.
    setSafetyHeaders(res, 'none', ref);
    sendError(res, apiError);
  };
}

/**
 * The body read failed because the connection closed before the whole body arrived: the client
 * hung up (or shutdown cut it), nobody is there for a 400. Only the body read's own failure: a
 * refusal decided meanwhile (a 429 from a rate limit the gateway waited on) stays what it is.
 */
function bodyCutShort(req: IncomingMessage, err: unknown): boolean {
  const e = err as { type?: string; code?: string } | undefined;
  const readFailed = e?.type === 'request.aborted' || e?.code === 'ECONNRESET' || e?.code === 'ECONNABORTED';
  return readFailed && !req.complete && (req.destroyed || req.socket?.destroyed === true);
}

/** Recorded as the client's leaving (499 client_closed), or the gateway's shutdown (503), never as a bad request. */
function closedDuringBody(res: ServerResponse): ApiError {
  const { status, error } = connectionClosedOutcome(res);
  return new ApiError(status, 'The connection closed before the request body was received.', 'invalid_request_error', error.type);
}

/** 413 for a body over the gateway's limit, whether read or only declared. */
export function bodyTooLarge(limit: number): ApiError {
  return new ApiError(413, `The request body is larger than the limit of ${limit} bytes.`, 'invalid_request_error', 'request_too_large');
}

/** Maps anything thrown on the way to an OpenAI-shaped error; never exposes a stack or internals. */
export function toApiError(err: unknown, limit: number): ApiError {
  if (err instanceof ApiError) return err;
  // body-parser hooks (the JSON depth check) carry their ApiError on the error body-parser wraps.
  const carried = (err as { apiError?: unknown } | undefined)?.apiError;
  if (carried instanceof ApiError) return carried;
  const e = err as { type?: string; status?: number; statusCode?: number };
  switch (e?.type) {
    case 'entity.parse.failed':
      return badRequest('We could not parse the JSON body of your request. Send valid JSON.', null, 'invalid_json');
    case 'entity.too.large':
      return bodyTooLarge(limit);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'Unsupported body encoding: send UTF-8 JSON.', 'invalid_request_error', 'unsupported_media_type');
    case 'request.aborted':
      return new ApiError(400, 'The request body was not fully received.', 'invalid_request_error', 'request_aborted');
    default:
      break;
  }
  // Express could not decode a route parameter (`/v1/models/%E0%A4%A`): a path problem, said so.
  if (err instanceof URIError) return new ApiError(400, 'The request path holds a malformed percent-encoding.', 'invalid_request_error', 'invalid_path');
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new ApiError(status, 'The request could not be processed.', 'invalid_request_error', 'bad_request');
  process.emitWarning(`safety-gateway: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
  return new ApiError(500, 'The gateway hit an internal error. The request was not forwarded.', 'api_error', 'internal_error');
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../../engine/client';
import { EngineError, failureCause } from '../../engine/errors';
import { ApiError, sendError } from '../errors';
import type { PolicyHolder } from './runtime/policyRuntime';
import { contextOf, type RequestContext } from './requestContext';
import type { ValidatedRequest } from './requestSchemas';
import { inputBlockedError } from './blockResponse';
import { engineApiError, upstreamClientError, withheldEngineMessage } from './engineErrors';
import { GuardedCall, type CallSink } from './guardedCall';
import type { GuardedEndpoint } from './guardedEndpoint';
import type { InFlightCalls } from './inFlightCalls';
import type { ParsedCompletion } from './parsedCompletion';
import { controlTokenError } from './extract/controlTokens';
import { isJoinedText } from './extract/joinedTexts';
import { answerScope, markDeliveredAnswers } from './deliveredAnswers';
import { holdRequestSpan } from '../telemetry/spans';
import { connectionClosedOutcome } from './connectionCut';

export interface PipelineDeps extends CallSink {
  policies: PolicyHolder;
  engine: Engine;
  /** The access layer's checks of a validated request (message and part counts, context length, tokens); absent: none. */
  admit?: (validated: ValidatedRequest, ctx: RequestContext, res: ServerResponse) => Promise<void>;
  /** The access layer's check of how many texts the extraction found (limits.texts); absent: none. */
  admitTexts?: (count: number) => void;
  /** Requests on their way to a record, for shutdown to wait on; absent: not tracked. */
  inFlight?: InFlightCalls;
}

/**
 * The request path of DESIGN.md for one guarded route, after authentication and the body read:
 * the body validated once (zod), that typed request counted by the access layer, the policy
 * resolved, the texts extracted, then input guards, engine, output guard and record. Errors before
 * the call starts (400, 429, 503 policy_unavailable) go to the app's error handler, which audits
 * each as a refusal (access/rejections.ts).
 */
export function guardedRoute<V extends ValidatedRequest, P extends ParsedCompletion>(endpoint: GuardedEndpoint<V, P>, deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    // A client can leave while its request is admitted (token counting yields): the span waits for
    // the guarded call's own hold, so the 499 it records is annotated on a span not yet ended.
    const releaseSpan = holdRequestSpan();
    try {
      await guardedRequest(endpoint, deps, req, res);
    } finally {
      releaseSpan();
    }
  };
}

async function guardedRequest<V extends ValidatedRequest, P extends ParsedCompletion>(endpoint: GuardedEndpoint<V, P>, deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ctx = contextOf(res);
  // The JSON body as the reader before this step parsed it.
  const sent = endpoint.validate((req as { body?: unknown }).body);
  // History the request names is counted (tokens, context length) as if it had been sent.
  const caller = { app: ctx.app, keyId: ctx.keyId };
  const validated = endpoint.resolve ? endpoint.resolve(sent, caller) : sent;
  if (deps.admit) await deps.admit(validated, ctx, res);
  // The app's own policy when its key assigned one; an id the gateway has not loaded fails closed (503 policy_unavailable).
  const runtime = deps.policies.current(ctx.policyId);
  res.setHeader('x-safety-policy', runtime.ref);
  ctx.policy = { id: runtime.loaded.id, version: runtime.loaded.version };
  const extracted = endpoint.extract(validated, runtime.loaded.policy.request_fields, caller);
  deps.admitTexts?.(extracted.inputTexts.reduce((n, t) => (isJoinedText(t) ? n : n + 1), 0));
  if (runtime.loaded.policy.request_fields.control_tokens === 'refuse') {
    const forged = controlTokenError(extracted.inputTexts);
    if (forged) throw forged;
  }
  // Earlier answers this gateway delivered are marked: the jailbreak score does not read them as forgeries (deliveredAnswers.ts).
  const delivered = deps.answers ? markDeliveredAnswers(extracted.inputTexts, deps.answers, answerScope(ctx.app, runtime.loaded)) : undefined;
  const parsed: P = delivered?.recognized.length ? { ...extracted, inputTexts: delivered.texts } : extracted;
  // From here the call records its own decision; only a refusal before it is an invalid_request (or policy_unavailable) record.
  ctx.guardedRoute = undefined;
  try {
    const call = new GuardedCall(ctx, res, runtime, parsed, endpoint.route, deps);
    if (delivered?.recognized.length) call.record.deliveredAnswers = delivered.recognized;
    await runGuarded(call, endpoint, deps.engine);
  } finally {
    // Recorded (every way out of runGuarded records once): shutdown need not wait for it any more.
    deps.inFlight?.end(res);
  }
}

/** Input guards, the engine call, the endpoint's answer path; every way out is recorded once. */
async function runGuarded<P extends ParsedCompletion>(call: GuardedCall<P>, endpoint: GuardedEndpoint<ValidatedRequest, P>, engine: Engine): Promise<void> {
  try {
    const input = await call.checkInput();
    if (input.decision.action === 'block') {
      const error = inputBlockedError(input.decision, input.verdicts, call.ctx.requestId, endpoint.inputParam, call.policy.refusals.input);
      await call.finish(400);
      call.sendHeaders('block');
      return sendError(call.res, error);
    }
    const upstream = await call.callEngine(engine, endpoint.operation, endpoint.enginePath);
    if (upstream.status >= 400) {
      const { error: rejected, engineWords } = await upstreamClientError(upstream);
      call.ctx.timing.engineAnswered();
      // Only the engine's own words are read: a message the gateway wrote needs no check.
      const error = !engineWords || (await call.engineMessageMayPass(engineWords)) ? rejected : withheldEngineMessage(rejected);
      // The record keeps what the engine said (message, code, param), withheld or not (the audit hashes it unless content capture says otherwise).
      await call.finish(error.status, { type: 'engine_rejected', message: engineWords ?? rejected.message });
      call.sendHeaders();
      return sendError(call.res, error);
    }
    await endpoint.respond(call, upstream);
  } catch (err) {
    if (err instanceof EngineError && err.failure === 'aborted') {
      const closed = connectionClosedOutcome(call.res);
      await call.finish(closed.status, closed.error).catch(() => undefined);
      return;
    }
    let apiError = err instanceof ApiError ? err : engineApiError(err);
    try {
      // The record says which failure (an overloaded engine, its own 503, a refused connection are all 503
      // engine_unavailable to the client), in fixed words: never the failure's message (failureCause).
      const cause = err instanceof EngineError ? failureCause(err) : undefined;
      await call.finish(apiError.status, { type: apiError.code ?? 'error', message: cause ? `${apiError.message} (${cause})` : apiError.message });
    } catch (recordErr) {
      // The record could not be written (503 audit_unavailable): that is what the client is told.
      if (recordErr instanceof ApiError) apiError = recordErr;
    }
    call.sendHeaders(call.record.guardFault ? 'error' : call.record.action);
    sendError(call.res, apiError);
  }
}


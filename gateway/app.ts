import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Engine } from '../engine/client';
import type { AccessLayer } from './access/accessLayer';
import { rejectionOf, reportRejection } from './access/rejections';
import { metricsAuth } from './auth/metricsAccess';
import { ApiError, badRequest, notFound, sendError } from './errors';
import { chatAdapter, textAdapter } from './pipeline/adapters';
import { completionEndpoint } from './pipeline/completionEndpoint';
import { guardedRoute, type PipelineDeps } from './pipeline/guardedRoute';
import { ConversationMemory, DEFAULT_MEMORY_LIMITS } from './pipeline/responses/conversationMemory';
import { responsesEndpoint } from './pipeline/responses/endpoint';
import type { PolicyHolder } from './policyRuntime';
import { contextOf, requestContextMiddleware, setSafetyHeaders } from './requestContext';
import type { DecisionRecorder } from './requestRecord';
import { healthRoutes } from './routes/health';
import { modelRoute, modelsRoute } from './routes/models';
import { passthroughRoute } from './routes/passthrough';
import { metricsRoute } from './telemetry/metricsRoute';
import { requestMetricsMiddleware } from './telemetry/requestMetrics';
import { serverSpanMiddleware } from './telemetry/spans';

export interface AppDeps {
  policies: PolicyHolder;
  engine: Engine;
  recorder: DecisionRecorder;
  bodyLimitBytes: number;
  /** Keys, rate limits and hostile-input limits (gateway/access); absent: open, unlimited (tests of other parts). */
  access?: AccessLayer;
  /** Extra readiness checks (audit log writable, ...), each returning a problem or undefined. */
  readinessChecks?: (() => Promise<string | undefined> | string | undefined)[];
  /** One OpenTelemetry server span per request (with guard and engine spans under it). */
  telemetry?: boolean;
  /** GET /metrics: the metrics key (needed whenever API keys are on), or served on its own port instead. */
  metrics?: { apiKey?: string; servedElsewhere?: boolean };
  /** The read-only review page (gateway/review), mounted at /review when `review.enabled`. */
  review?: RequestHandler;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.access?.trustProxy ?? false);
  app.use(requestContextMiddleware);
  if (deps.telemetry) app.use(serverSpanMiddleware(), requestMetricsMiddleware());

  app.use(healthRoutes(deps));
  if (deps.review) app.use('/review', deps.review);
  if (!deps.metrics?.servedElsewhere) app.get('/metrics', metricsAuth({ keysEnabled: deps.access?.keysEnabled ?? false, metricsKey: deps.metrics?.apiKey }), metricsRoute());
  if (deps.access) app.use('/v1', ...deps.access.beforeBody);

  // Guarded routes: the body is read and parsed once here, then validated once by the route (guardedRoute.ts).
  const json = [requireJson, express.json({ limit: deps.bodyLimitBytes, strict: true, type: () => true, verify: deps.access?.verifyJson })];
  const pipeline: PipelineDeps = {
    policies: deps.policies,
    engine: deps.engine,
    recorder: deps.recorder,
    admit: deps.access?.admit,
    onFinished: deps.access?.onFinished,
  };
  app.post('/v1/chat/completions', ...json, guardedRoute(completionEndpoint(chatAdapter), pipeline));
  app.post('/v1/completions', ...json, guardedRoute(completionEndpoint(textAdapter), pipeline));
  // Conversations relayed on /v1/responses, so a client's previous_response_id or item_reference is expanded and checked.
  const memory = new ConversationMemory({ ...DEFAULT_MEMORY_LIMITS, maxConversationBytes: deps.bodyLimitBytes });
  app.post('/v1/responses', ...json, guardedRoute(responsesEndpoint(memory), pipeline));
  app.get('/v1/models', modelsRoute(deps));
  app.get('/v1/models/*id', modelRoute(deps));
  app.use('/v1', passthroughRoute(deps));

  app.use((req: Request, _res: Response, next: NextFunction) => next(notFound(`Unknown route: ${req.method} ${req.path.slice(0, 200)}`)));
  app.use(errorHandler(deps));
  return app;
}

/** Guarded routes read JSON only; anything else is a 415 before the body is read. */
function requireJson(req: Request, _res: Response, next: NextFunction): void {
  const type = req.header('content-type');
  if (!type || !/^application\/(.+\+)?json\b/i.test(type)) {
    next(new ApiError(415, `Unsupported content type ${type ? `\`${type.slice(0, 100)}\`` : '(none)'}: send application/json.`, 'invalid_request_error', 'unsupported_media_type'));
    return;
  }
  next();
}

function errorHandler(deps: AppDeps): ErrorRequestHandler {
  return async (err: unknown, req, res, _next) => {
    const apiError = toApiError(err, deps.bodyLimitBytes);
    // A 401 or 429 is recorded (audit log, metrics) before it goes out, like any decision.
    const rejection = rejectionOf(apiError, req, res);
    if (rejection) await reportRejection(deps.recorder, rejection);
    let ref: string | undefined;
    try {
      ref = deps.policies.current(contextOf(res)?.policyId).ref;
    } catch {
      ref = undefined;
    }
    setSafetyHeaders(res, 'allow', ref);
    sendError(res, apiError);
  };
}

/** Maps anything thrown on the way to an OpenAI-shaped error; never exposes a stack or internals. */
function toApiError(err: unknown, limit: number): ApiError {
  if (err instanceof ApiError) return err;
  // body-parser hooks (the JSON depth check) carry their ApiError on the error body-parser wraps.
  const carried = (err as { apiError?: unknown } | undefined)?.apiError;
  if (carried instanceof ApiError) return carried;
  const e = err as { type?: string; status?: number; statusCode?: number };
  switch (e?.type) {
    case 'entity.parse.failed':
      return badRequest('We could not parse the JSON body of your request. Send valid JSON.', null, 'invalid_json');
    case 'entity.too.large':
      return new ApiError(413, `The request body is larger than the limit of ${limit} bytes.`, 'invalid_request_error', 'request_too_large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'Unsupported body encoding: send UTF-8 JSON.', 'invalid_request_error', 'unsupported_media_type');
    case 'request.aborted':
      return new ApiError(400, 'The request body was not fully received.', 'invalid_request_error', 'request_aborted');
    default:
      break;
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new ApiError(status, 'The request could not be processed.', 'invalid_request_error', 'bad_request');
  process.emitWarning(`safety-gateway: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
  return new ApiError(500, 'The gateway hit an internal error. The request was not forwarded.', 'api_error', 'internal_error');
}

import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response } from 'express';
import type { EngineClient } from '../engine/client';
import { ApiError, badRequest, notFound, sendError } from './errors';
import { chatAdapter, textAdapter } from './pipeline/adapters';
import { guardedCompletion } from './pipeline/guardedCompletion';
import type { PolicyHolder } from './policyRuntime';
import { requestContextMiddleware, setSafetyHeaders } from './requestContext';
import type { DecisionRecorder } from './requestRecord';
import { healthRoutes } from './routes/health';
import { modelsRoute } from './routes/models';
import { passthroughRoute } from './routes/passthrough';

export interface AppDeps {
  policies: PolicyHolder;
  engine: EngineClient;
  recorder: DecisionRecorder;
  bodyLimitBytes: number;
  /** Extra readiness checks (audit log writable, ...), each returning a problem or undefined. */
  readinessChecks?: (() => Promise<string | undefined> | string | undefined)[];
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContextMiddleware);

  app.use(healthRoutes(deps));

  const json = [requireJson, express.json({ limit: deps.bodyLimitBytes, strict: true, type: () => true })];
  app.post('/v1/chat/completions', ...json, guardedCompletion(chatAdapter, deps));
  app.post('/v1/completions', ...json, guardedCompletion(textAdapter, deps));
  app.get('/v1/models', modelsRoute(deps));
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
  return (err: unknown, _req, res, _next) => {
    const apiError = toApiError(err, deps.bodyLimitBytes);
    let ref: string | undefined;
    try {
      ref = deps.policies.current().ref;
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

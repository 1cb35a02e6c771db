import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Engine } from '../engine/client';
import type { AccessLayer } from './access/accessLayer';
import { clientAddressResolver } from './access/clientAddress';
import { requireHost } from './access/hardening/hostHeader';
import { noteProtoCandidate, refuseProtoMembers } from './access/hardening/protoMembers';
import { metricsAuth } from './access/auth/metricsAccess';
import { bodyTooLarge, errorAnswerer } from './routes/errorAnswer';
import { ApiError, notFound } from './errors';
import { handlerChain, type NodeHandler } from './routes/handlerChain';
import { chatAdapter, textAdapter } from './pipeline/adapters';
import { completionEndpoint } from './pipeline/completionEndpoint';
import { guardedRoute, type PipelineDeps } from './pipeline/guardedRoute';
import { DeliveredAnswers } from './pipeline/deliveredAnswers';
import { ConversationMemory, DEFAULT_MEMORY_LIMITS } from './pipeline/responses/conversationMemory';
import { responsesEndpoint } from './pipeline/responses/endpoint';
import type { PolicyHolder } from './pipeline/runtime/policyRuntime';
import { guardedRouteKey } from './routes/guardedRouteKey';
import { contextOf, headerValue } from './pipeline/requestContext';
import { arrive, onRequest } from './routes/requestLifecycle';
import type { DecisionRecorder } from './record/requestRecord';
import type { InFlightCalls } from './pipeline/inFlightCalls';
import { healthRoutes } from './routes/health';
import { modelRoute, modelsRoute } from './routes/models';
import { passthroughRoute } from './routes/passthrough';
import { metricsRoute } from './telemetry/metricsRoute';
import { parse as parseContentType } from 'content-type';

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
  /** Requests on their way to a record, from arrival (shutdown waits for them). */
  inFlight?: InFlightCalls;
  /** How many delivered answers to remember (config guards.delivered_answers); absent: the default, 0: none. */
  deliveredAnswers?: number;
}

/**
 * The gateway's request listener. The guarded routes (POST /v1/chat/completions, /v1/completions,
 * /v1/responses) run on node's own request and response, each as one chain of steps in order
 * (Fastify's lifecycle as the model): arrival (context, metrics, span), the access gate before
 * any body is read (slow-reader watchdog, authentication, request and concurrency limits), the
 * JSON body read once, then the guarded path (pipeline/guardedRoute.ts: validate once, access
 * checks on the typed request, extract, guards, engine, record). Express serves everything else
 * (health, metrics, review, models, passthrough, 404s): it costs a guarded request more than the
 * gateway's own work, and those routes do not need it to be cheap.
 */
export function createApp(deps: AppDeps): RequestListener {
  const clientOf = deps.access?.clientOf ?? clientAddressResolver(false);
  const answerError = errorAnswerer({ policies: deps.policies, recorder: deps.recorder, bodyLimitBytes: deps.bodyLimitBytes, clientOf, inFlight: deps.inFlight });
  // The JSON body, read and parsed once (the depth check runs on its bytes first).
  const verifyJson = deps.access?.verifyJson;
  const parseJson = express.json({
    limit: deps.bodyLimitBytes,
    strict: true,
    type: () => true,
    verify: (req, res, buf) => {
      verifyJson?.(req, res, buf);
      noteProtoCandidate(req, buf);
    },
  }) as NodeHandler;
  const readJson = handlerChain(parseJson, refuseProtoMembers);
  const guarded = guardedRoutes(deps, readJson, answerError);
  const app = expressApp(deps, readJson, answerError, guarded);
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      const route = guarded.get(guardedRouteKey(req.url ?? '/'));
      if (route) {
        // A guarded request records its outcome, possibly after its client is gone: held until then.
        deps.inFlight?.begin(res, true);
        return route.listener(req, res);
      }
    }
    deps.inFlight?.begin(res);
    app(req, res);
  };
}

interface GuardedRoute {
  /** The route pattern, as metrics and spans name it. */
  path: string;
  handler: NodeHandler;
  listener: RequestListener;
}

type AnswerError = (err: unknown, req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The three guarded routes, each one chain from arrival to answer, by the key their paths match under. */
function guardedRoutes(deps: AppDeps, readJson: NodeHandler, answerError: AnswerError): Map<string, GuardedRoute> {
  const telemetry = deps.telemetry ?? false;
  const pipeline: PipelineDeps = {
    policies: deps.policies,
    engine: deps.engine,
    recorder: deps.recorder,
    admit: deps.access?.admit,
    admitTexts: deps.access?.admitTexts,
    onFinished: deps.access?.onFinished,
    inFlight: deps.inFlight,
    // Answers delivered on any guarded route, known when a client resends one as history.
    answers: deps.deliveredAnswers === 0 ? undefined : new DeliveredAnswers(deps.deliveredAnswers),
  };
  // Conversations relayed on /v1/responses, so a client's previous_response_id or item_reference is expanded and checked.
  const memory = new ConversationMemory({ ...DEFAULT_MEMORY_LIMITS, maxConversationBytes: deps.bodyLimitBytes });
  const routes = new Map<string, GuardedRoute>();
  const add = (path: string, handler: NodeHandler) => {
    const chain = handlerChain(onGuardedRoute(path), ...(deps.access?.beforeBody ?? []), requireHost, requireJson, refuseDeclaredOversize(deps.bodyLimitBytes), readJson, handler);
    const listener: RequestListener = (req, res) => {
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const facts = { path: query === -1 ? url : url.slice(0, query), route: () => path, stream: () => (req as { body?: { stream?: unknown } }).body?.stream === true };
      arrive(req, res, facts, telemetry, () =>
        chain(req, res, (err) => void answerError(err ?? notFound(`Unknown route: ${req.method} ${path}`), req, res).catch(() => res.destroy())),
      );
    };
    routes.set(guardedRouteKey(path), { path, handler, listener });
  };
  add('/v1/chat/completions', guardedRoute(completionEndpoint(chatAdapter), pipeline));
  add('/v1/completions', guardedRoute(completionEndpoint(textAdapter), pipeline));
  add('/v1/responses', guardedRoute(responsesEndpoint(memory), pipeline));
  return routes;
}

/** Everything but the guarded path: health, metrics, review, models, passthrough, 404s, errors. */
function expressApp(deps: AppDeps, readJson: NodeHandler, answerError: AnswerError, guarded: Map<string, GuardedRoute>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.access?.trustProxy ?? false);
  app.use(onRequest(deps.telemetry ?? false));
  // Before any route: every answer but the guarded routes' (whose chains check it after the access gate, to audit it).
  app.use((req: Request, res: Response, next: NextFunction) => (req.method === 'POST' && guarded.has(guardedRouteKey(req.path)) ? next() : requireHost(req, res, next)));

  const health = healthRoutes(deps);
  app.get('/healthz', health.healthz);
  app.get('/readyz', health.readyz);
  if (deps.review) app.use('/review', deps.review);
  if (!deps.metrics?.servedElsewhere) app.get('/metrics', metricsAuth({ keysEnabled: deps.access?.keysEnabled ?? false, metricsKey: deps.metrics?.apiKey }), metricsRoute());
  if (deps.access) app.use('/v1', handlerChain(...deps.access.beforeBody));

  // A guarded route the listener did not take (a request target in absolute form): the same chain, under express.
  for (const route of guarded.values()) app.post(route.path, handlerChain(onGuardedRoute(route.path), requireHost, requireJson, refuseDeclaredOversize(deps.bodyLimitBytes), readJson, route.handler));
  app.get('/v1/models', modelsRoute(deps));
  app.get('/v1/models/*id', modelRoute(deps));
  app.use('/v1', passthroughRoute(deps));

  app.use((req: Request, _res: Response, next: NextFunction) => next(notFound(`Unknown route: ${req.method} ${req.path.slice(0, 200)}`)));
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => answerError(err, req, res);
  app.use(onError);
  return app;
}

/** Marks the request as on a guarded route: until its guarded call starts, a 400, 413 or 415 is audited (access/rejections.ts). */
function onGuardedRoute(path: string): NodeHandler {
  return (_req, res, next) => {
    contextOf(res).guardedRoute = path;
    next();
  };
}

/**
 * A body whose declared length is over the limit is refused before any of it is read. The JSON
 * reader would refuse it too, but only after reading (and so inviting, under `Expect:
 * 100-continue`) the whole upload, to keep the connection open.
 */
function refuseDeclaredOversize(limit: number): NodeHandler {
  return (req, _res, next) => {
    const declared = Number(req.headers['content-length']);
    next(declared > limit ? bodyTooLarge(limit) : undefined);
  };
}

/**
 * Guarded routes read UTF-8 JSON only; anything else is a 415 before the body is read. The checks
 * on the raw bytes (JSON depth, `__proto__` members) read UTF-8: a body in UTF-16 or UTF-7, which
 * the JSON parser would decode, passed them unread.
 */
function requireJson(req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void {
  const type = headerValue(req, 'content-type');
  if (!type || !/^application\/(.+\+)?json\b/i.test(type)) {
    next(new ApiError(415, `Unsupported content type ${type ? `\`${type.slice(0, 100)}\`` : '(none)'}: send application/json.`, 'invalid_request_error', 'unsupported_media_type'));
    return;
  }
  // Read with the parser the JSON reader uses (content-type, as body-parser does): a regex of our
  // own read `x=";charset=utf-8"; charset=utf-16le` as UTF-8 while the body was decoded as UTF-16.
  let charset: string | undefined;
  try {
    charset = parseContentType(type).parameters.charset;
  } catch {
    next(new ApiError(415, `Unsupported content type \`${type.slice(0, 100)}\`: its parameters cannot be read; send application/json.`, 'invalid_request_error', 'unsupported_media_type'));
    return;
  }
  if (charset !== undefined && !/^(utf-8|us-ascii)$/i.test(charset)) {
    next(new ApiError(415, `Unsupported charset \`${charset.slice(0, 40)}\`: send UTF-8 JSON.`, 'invalid_request_error', 'unsupported_media_type'));
    return;
  }
  next();
}

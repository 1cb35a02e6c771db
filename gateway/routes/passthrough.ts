import type { ClientRequest, IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { ApiError, InvalidPathError, NO_AUTOMATIC_RETRY, UnknownPolicyError } from '../errors';
import type { EngineClientOptions } from '../../engine/client';
import { engineRefusedGateway } from '../pipeline/engineErrors';
import { contextOf, setSafetyHeaders } from '../pipeline/requestContext';
import type { RouteDeps } from './routeDeps';
import { passthroughDecision } from './passthroughPath';

/**
 * Client headers that never reach the engine: the gateway key (the engine gets its own), proxy
 * credentials, cookies, hop-by-hop headers (RFC 9110 7.6.1: they belong to one connection), and
 * the client's own forwarding and request-id headers (the engine hears the gateway's).
 */
const STRIPPED = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'x-real-ip', 'x-request-id', 'x-client-request-id'];
/**
 * Engine answer headers that stay between the engine and the gateway: hop-by-hop ones, cookies, and
 * the ones the gateway sets itself (its request id, verdict, policy, timings), which http-proxy
 * would otherwise overwrite with the engine's (or a proxy's in front of it: Envoy's x-request-id).
 */
const STRIPPED_FROM_ANSWER = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'set-cookie', 'x-request-id', 'x-gateway-overhead-ms', 'x-guard-duration-ms'];
const GATEWAY_HEADER_PREFIX = 'x-safety-';
/** Errors of a connection that was never made: nothing reached the engine. */
const NOT_CONNECTED: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Other /v1/* routes: forwarded unguarded when the policy lists them under routes.passthrough,
 * refused with an OpenAI-shaped 404 otherwise. The path is normalised first (passthroughPath.ts)
 * and only its normal form is forwarded. The list is read per request, so a policy reload opens
 * or closes a route without a restart.
 */
export function passthroughRoute(deps: RouteDeps): RequestHandler {
  const bodyLimit = deps.bodyLimitBytes ?? Number.POSITIVE_INFINITY;
  const forwardPaths = new WeakMap<Request, string>();
  // Per request, the upstream it goes to: with several, the next healthy one (upstream 1 took them all, down or not).
  const upstreams = new WeakMap<Request, { origin: string; key: string | undefined; options: EngineClientOptions }>();
  // Requests whose engine went quiet past the timeout (told apart from a connection that broke).
  const timedOut = new WeakSet<Request>();
  const proxy = createProxyMiddleware<Request, Response>({
    target: new URL(deps.engine.options.baseUrl).origin,
    router: (req: Request) => upstreams.get(req)?.origin ?? new URL(deps.engine.options.baseUrl).origin,
    changeOrigin: true,
    // The decided normal form, never the client's spelling: `/v1/<rest>` becomes `<engine base path>/<rest>`.
    pathRewrite: (_path, req) => forwardPaths.get(req) ?? '/',
    // As the guarded routes: the engine silent longer than its first-byte timeout (a whole answer's
    // headers) or, once it answered, its idle timeout, is a 504; a route's whole answer takes no
    // longer on an engine that works.
    proxyTimeout: Math.min(deps.engine.options.totalTimeoutMs, Math.max(deps.engine.options.firstByteTimeoutMs, deps.engine.options.idleTimeoutMs)),
    on: {
      proxyReq: (proxyReq: ClientRequest, req: Request) => {
        // Headers the client named in Connection are hop-by-hop too.
        for (const name of String(req.headers.connection ?? '').split(',')) if (name.trim()) proxyReq.removeHeader(name.trim());
        for (const name of STRIPPED) proxyReq.removeHeader(name);
        const engineKey = upstreams.get(req)?.key;
        if (engineKey) proxyReq.setHeader('authorization', `Bearer ${engineKey}`);
        proxyReq.setHeader('x-request-id', contextOf(req.res as Response).requestId);
        proxyReq.once('timeout', () => timedOut.add(req));
        limitBody(req, proxyReq, bodyLimit);
      },
      // The engine breaking off after its status line: the client sees the break (its connection
      // closed), never a response that stays open until the total timeout.
      proxyRes: (proxyRes: IncomingMessage, req, res) => {
        const status = proxyRes.statusCode ?? 0;
        if (status === 401 || status === 403) {
          // The engine refusing the gateway's key, as on the guarded routes: a 502 about the gateway
          // (relayed as is, the app's SDK blamed its own key), and that replica marked down until a
          // check made with the key passes. Answered here, http-proxy relays nothing of the engine's.
          const upstream = upstreams.get(req as Request);
          if (upstream) deps.engine.upstreamFailed(upstream.options, `HTTP ${status}: the engine refused the gateway's key`, true);
          proxyRes.resume();
          const refused = engineRefusedGateway(status);
          (res as Response).status(refused.status).json(refused.body());
          return;
        }
        for (const name of String(proxyRes.headers.connection ?? '').split(',')) if (name.trim()) delete proxyRes.headers[name.trim().toLowerCase()];
        for (const name of STRIPPED_FROM_ANSWER) delete proxyRes.headers[name];
        for (const name of Object.keys(proxyRes.headers)) if (name.toLowerCase().startsWith(GATEWAY_HEADER_PREFIX)) delete proxyRes.headers[name];
        proxyRes.once('close', () => {
          if (!proxyRes.complete) (res as Response).destroy();
        });
      },
      error: (err, req, res) => {
        const out = res as Response;
        if ('headersSent' in out && !out.headersSent) {
          // As the guarded routes answer: a connection never made is a 503 (retryable: nothing reached
          // the engine); a timeout a 504 and a connection broken mid-request a 502, which the openai
          // SDKs' automatic retries would only wait out again (x-should-retry).
          const code = (err as NodeJS.ErrnoException).code ?? '';
          const upstream = upstreams.get(req as Request);
          // Nothing listening there: the next passthrough request (and the guarded routes) go elsewhere until its health check passes.
          if (NOT_CONNECTED.has(code) && upstream) deps.engine.upstreamFailed(upstream.options, `unreachable: ${code}`);
          if (NOT_CONNECTED.has(code)) return void out.status(503).json({ error: { message: 'The engine is unavailable. Try again later.', type: 'api_error', param: null, code: 'engine_unavailable' } });
          out.set(NO_AUTOMATIC_RETRY);
          if (timedOut.has(req as Request)) return void out.status(504).json({ error: { message: 'The engine did not answer in time.', type: 'api_error', param: null, code: 'engine_timeout' } });
          out.status(502).json({ error: { message: 'The engine failed on this route.', type: 'api_error', param: null, code: 'engine_error' } });
        } else if ('destroy' in out) {
          out.destroy();
        }
      },
    },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    let runtime;
    try {
      runtime = deps.policies.current(contextOf(res).policyId);
    } catch (err) {
      // The key names a policy this gateway has not loaded: a 503 policy_unavailable (audited), as
      // on the guarded routes, not a 404 that sends the operator looking for a disabled route.
      if (err instanceof UnknownPolicyError) return next(err);
      runtime = undefined; // no policy loaded yet: nothing passes through
    }
    // The raw request target, before express or any upstream decodes it.
    const raw = req.originalUrl;
    const queryAt = raw.indexOf('?');
    const rawPath = queryAt === -1 ? raw : raw.slice(0, queryAt);
    const decision = passthroughDecision(rawPath, runtime?.loaded.policy.routes.passthrough ?? []);
    if (decision.kind === 'refuse') {
      // A 400 invalid_path is a probe around the guards and is audited (access/rejections.ts); a 404 is not.
      return next(decision.code === 'invalid_path' ? new InvalidPathError(decision.message) : new ApiError(decision.status, decision.message, 'invalid_request_error', decision.code));
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > bodyLimit) return next(tooLarge(bodyLimit));
    const upstream = deps.engine.nextUpstream();
    const base = new URL(upstream.baseUrl);
    upstreams.set(req, { origin: base.origin, key: upstream.apiKey, options: upstream });
    forwardPaths.set(req, `${base.pathname.replace(/\/+$/, '')}${decision.path.slice('/v1'.length)}${queryAt === -1 ? '' : raw.slice(queryAt)}`);
    setSafetyHeaders(res, 'allow', runtime?.ref);
    res.setHeader('x-safety-passthrough', 'true');
    // The gateway answers `Expect` itself (access/hardening/expectContinue.ts). Left on the
    // request, http-proxy skips the proxyReq hook above for it: the client's key and cookies
    // would reach the engine, and the body limit would not be counted.
    delete req.headers.expect;
    return proxy(req, res, next);
  };
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, `The request body is larger than the gateway's limit of ${limit} bytes (limits.body_bytes).`, 'invalid_request_error', 'request_too_large');
}

/**
 * A chunked body has no length to refuse up front: its bytes are counted as they are forwarded,
 * and past the limit the engine request is aborted and the client answered 413 (or cut off, if
 * the engine's answer had already begun).
 */
function limitBody(req: Request, proxyReq: ClientRequest, limit: number): void {
  if (!Number.isFinite(limit)) return;
  let seen = 0;
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= limit) return;
    req.off('data', onData);
    req.unpipe();
    proxyReq.destroy();
    const res = req.res as Response;
    if (!res.headersSent) {
      const err = tooLarge(limit);
      res.status(413).json(err.body());
    } else res.destroy();
    req.resume();
  };
  req.on('data', onData);
}

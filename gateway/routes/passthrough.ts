import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { AppDeps } from '../app';
import { notFound } from '../errors';
import { contextOf, setSafetyHeaders } from '../requestContext';

/**
 * Other /v1/* routes: forwarded unguarded when the policy lists them under routes.passthrough,
 * refused with an OpenAI-shaped 404 otherwise. The list is read per request, so a policy reload
 * opens or closes a route without a restart.
 */
export function passthroughRoute(deps: AppDeps): RequestHandler {
  const base = new URL(deps.engine.options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const proxy = createProxyMiddleware<Request, Response>({
    target: base.origin,
    changeOrigin: true,
    // Mounted at /v1: req.url here is the part after /v1, which the engine serves under its own base path.
    pathRewrite: (path) => `${basePath}${path}`,
    proxyTimeout: deps.engine.options.totalTimeoutMs,
    headers: deps.engine.options.apiKey ? { authorization: `Bearer ${deps.engine.options.apiKey}` } : {},
    on: {
      error: (_err, _req, res) => {
        const out = res as Response;
        if ('headersSent' in out && !out.headersSent) {
          out.status(502).json({ error: { message: 'The engine could not be reached for this route.', type: 'api_error', param: null, code: 'engine_unavailable' } });
        }
      },
    },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const fullPath = `/v1${req.path}`;
    let runtime;
    try {
      runtime = deps.policies.current(contextOf(res).policyId);
    } catch {
      runtime = undefined; // no policy (or an unknown one): nothing passes through
    }
    const allowed = runtime?.loaded.policy.routes.passthrough.some((p) => p === fullPath || (p.endsWith('/*') && fullPath.startsWith(p.slice(0, -1))));
    if (!allowed) return next(notFound(`Unknown or disabled route: ${req.method} ${fullPath.slice(0, 200)}`));
    setSafetyHeaders(res, 'allow', runtime?.ref);
    res.setHeader('x-safety-passthrough', 'true');
    return proxy(req, res, next);
  };
}

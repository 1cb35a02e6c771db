import type { Attributes } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GATEWAY, SECURITY } from './attributes';
import { instruments } from './metrics';

/** Probes and scrapes: every few seconds each, they would swamp the latency of the requests that matter. */
const UNMEASURED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Express middleware: requests in flight, and the whole-request latency histogram (received to last
 * byte sent, streams included) by route, method, status, stream or not, and the x-safety-verdict
 * the client got. Without an OpenTelemetry SDK the instruments are no-ops.
 */
export function requestMetricsMiddleware(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (UNMEASURED.has(req.path)) return next();
    const started = performance.now();
    // The instruments of this moment: if the SDK is replaced meanwhile, the -1 still meets its +1.
    const m = instruments();
    m.inFlight.add(1);
    res.once('close', () => {
      m.inFlight.add(-1);
      m.requestDuration.record((performance.now() - started) / 1000, requestAttributes(req, res));
    });
    next();
  };
}

/** The histogram's attributes: bounded values only (the matched route pattern, never the raw path). */
export function requestAttributes(req: Request, res: Response): Attributes {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  const verdict = res.getHeader('x-safety-verdict');
  const body = req.body as { stream?: unknown } | undefined;
  return {
    [GATEWAY.HTTP_METHOD]: req.method,
    [GATEWAY.HTTP_STATUS]: res.statusCode,
    ...(typeof route === 'string' ? { [GATEWAY.HTTP_ROUTE]: route } : {}),
    [GATEWAY.STREAM]: body?.stream === true,
    ...(typeof verdict === 'string' ? { [SECURITY.ACTION]: verdict } : {}),
  };
}

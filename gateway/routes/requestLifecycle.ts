import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { startContext } from '../pipeline/requestContext';
import { observeRequest, type RequestFacts } from '../telemetry/requestMetrics';
import { withServerSpan } from '../telemetry/spans';

/**
 * What happens as every request arrives (Fastify's onRequest hook): its context, and with
 * telemetry its latency metric and its SERVER span, which stays active for everything the
 * request does. `next` runs inside the span.
 */
export function arrive(req: IncomingMessage, res: ServerResponse, facts: RequestFacts, telemetry: boolean, next: () => void): void {
  startContext(req, res);
  if (!telemetry) return next();
  withServerSpan(req, res, facts, () => {
    observeRequest(req, res, facts);
    next();
  });
}

/** The same for the routes express serves, in one express layer. */
export function onRequest(telemetry: boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => arrive(req, res, expressFacts(req), telemetry, next);
}

function expressFacts(req: Request): RequestFacts {
  return {
    path: req.path,
    route: () => (req.route as { path?: unknown } | undefined)?.path as string | undefined,
    stream: () => (req.body as { stream?: unknown } | undefined)?.stream === true,
  };
}

import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Per-request state shared by middleware and handlers (kept on res.locals.ctx). */
export interface RequestContext {
  /** The gateway's own id for this request (never taken from the client). */
  requestId: string;
  /** The id the client sent (`x-client-request-id` or `x-request-id`), kept only as a labelled field for correlation. */
  clientRequestId?: string;
  receivedAt: Date;
  startedAt: number;
  /** App identity from the API key; `anonymous` when the gateway runs without keys. */
  app: string;
  /** Policy id to use for this app (per-app policies), when auth assigns one. */
  policyId?: string;
  guardMs: number;
  engineMs: number;
}

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Pure: the client's own request id, when it is one we can record safely (printable, bounded). */
export function clientRequestIdOf(header: string | undefined): string | undefined {
  return header !== undefined && CLIENT_ID.test(header) ? header : undefined;
}

export function requestContextMiddleware(req: Request, res: Response, next: NextFunction): void {
  // A client-chosen id could collide with another request's (or another app's) on purpose, so the
  // gateway always issues its own and keeps the client's apart.
  const ctx: RequestContext = {
    requestId: `req_${randomUUID().replace(/-/g, '')}`,
    clientRequestId: clientRequestIdOf(req.header('x-client-request-id') ?? req.header('x-request-id')),
    receivedAt: new Date(),
    startedAt: performance.now(),
    app: 'anonymous',
    guardMs: 0,
    engineMs: 0,
  };
  res.locals.ctx = ctx;
  res.setHeader('x-request-id', ctx.requestId);
  res.setHeader('x-safety-verdict', 'allow');
  next();
}

export function contextOf(res: Response): RequestContext {
  return res.locals.ctx as RequestContext;
}

/** The x-safety-verdict values: a policy verdict, or `error` when a guard fault kept the gateway from reaching one. */
export type VerdictHeader = 'allow' | 'flag' | 'block' | 'error';

/** Sets the timing and verdict headers; call just before the status line goes out. */
export function setSafetyHeaders(res: Response, verdict: VerdictHeader, policyRef?: string): void {
  if (res.headersSent) return;
  const ctx = contextOf(res);
  const elapsed = performance.now() - ctx.startedAt;
  res.setHeader('x-safety-verdict', verdict);
  if (policyRef) res.setHeader('x-safety-policy', policyRef);
  res.setHeader('x-gateway-overhead-ms', Math.max(0, elapsed - ctx.engineMs).toFixed(1));
  res.setHeader('x-guard-duration-ms', ctx.guardMs.toFixed(1));
}

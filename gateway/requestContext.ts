import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Per-request state shared by middleware and handlers (kept on res.locals.ctx). */
export interface RequestContext {
  requestId: string;
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

export function requestContextMiddleware(req: Request, res: Response, next: NextFunction): void {
  const inbound = req.header('x-request-id');
  const ctx: RequestContext = {
    requestId: inbound && CLIENT_ID.test(inbound) ? inbound : `req_${randomUUID().replace(/-/g, '')}`,
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

/** Sets the timing and verdict headers; call just before the status line goes out. */
export function setSafetyHeaders(res: Response, verdict: 'allow' | 'flag' | 'block', policyRef?: string): void {
  if (res.headersSent) return;
  const ctx = contextOf(res);
  const elapsed = performance.now() - ctx.startedAt;
  res.setHeader('x-safety-verdict', verdict);
  if (policyRef) res.setHeader('x-safety-policy', policyRef);
  res.setHeader('x-gateway-overhead-ms', Math.max(0, elapsed - ctx.engineMs).toFixed(1));
  res.setHeader('x-guard-duration-ms', ctx.guardMs.toFixed(1));
}

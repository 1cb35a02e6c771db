import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { KeyLimits } from './rateLimit/keyLimits';
import { RequestTiming } from './requestTiming';

/** A token reservation awaiting settlement from the engine's usage. */
export interface TokenHold {
  reserved: number;
  promptTokens: number;
  limit: number;
  takenAt: number;
  resetMs: number;
  settled: boolean;
}

/** Who is calling and under which limits: set by authentication, read by the rate limiters. */
export interface AccessGrant {
  /** Rate-limit identity: `key:<id>` with keys, `ip:<client address>` without. */
  subject: string;
  limits: KeyLimits;
  tokens?: TokenHold;
}

/**
 * The one per-request context (modelled on Hono's Context and Fastify's request): made when the
 * request arrives, filled in by each step of the path (authentication names the app, its policy
 * and limits; the pipeline reads them), and the one place that holds its timing. Kept on
 * `res.locals.ctx`; `contextOf(res)` reads it typed.
 */
export class RequestContext {
  /** The gateway's own id for this request (never taken from the client). */
  readonly requestId = `req_${randomUUID().replace(/-/g, '')}`;
  readonly receivedAt = new Date();
  readonly timing = new RequestTiming();
  /** App identity from the API key; `anonymous` when the gateway runs without keys. */
  app = 'anonymous';
  /** The API key that named the app (absent without keys). */
  keyId: string | undefined;
  /** Policy id to use for this app (per-app policies), when its key assigns one. */
  policyId: string | undefined;
  /** Rate-limit identity and limits; absent where no access layer runs (tests of other parts). */
  access: AccessGrant | undefined;

  /** `clientRequestId`: the id the client sent (`x-client-request-id` or `x-request-id`), kept only as a labelled field for correlation. */
  constructor(readonly clientRequestId: string | undefined) {}
}

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Pure: the client's own request id, when it is one we can record safely (printable, bounded). */
export function clientRequestIdOf(header: string | undefined): string | undefined {
  return header !== undefined && CLIENT_ID.test(header) ? header : undefined;
}

export function requestContextMiddleware(req: Request, res: Response, next: NextFunction): void {
  // A client-chosen id could collide with another request's (or another app's) on purpose, so the
  // gateway always issues its own and keeps the client's apart.
  const ctx = new RequestContext(clientRequestIdOf(req.header('x-client-request-id') ?? req.header('x-request-id')));
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
  const { timing } = contextOf(res);
  res.setHeader('x-safety-verdict', verdict);
  if (policyRef) res.setHeader('x-safety-policy', policyRef);
  res.setHeader('x-gateway-overhead-ms', timing.overheadMs().toFixed(1));
  res.setHeader('x-guard-duration-ms', timing.guardMs.toFixed(1));
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction } from 'express';
import type { KeyLimits } from '../access/rateLimit/keyLimits';
import { RequestTiming } from './requestTiming';

/** A token reservation awaiting settlement from the engine's usage. */
export interface TokenHold {
  reserved: number;
  promptTokens: number;
  limit: number;
  takenAt: number;
  resetMs: number;
  /** Where the reservation was counted: its refund goes back there. */
  store: 'shared' | 'memory';
  settled: boolean;
  /**
   * Each answer was reserved this many tokens (the client's limit, or the default where it set none):
   * the engine is sent it as the limit, or it could generate far past the reservation, charged only at the end.
   */
  answerCap?: number;
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
 * and limits; the pipeline reads them), and the one place that holds its timing. Kept on the
 * response (the guarded path runs on plain node objects, express routes on express's);
 * `contextOf(res)` reads it typed.
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

  /**
   * Whose verdict caches this request may use: its app's, and within it its key's (keys are
   * tenants, as for the Responses memory): a cache hit, a faster answer, told one key whether another
   * key of the app had sent a text.
   */
  get cacheTenant(): string {
    return this.keyId === undefined ? this.app : `${this.app}\u0000${this.keyId}`;
  }
  /** Rate-limit identity and limits; absent where no access layer runs (tests of other parts). */
  access: AccessGrant | undefined;
  /**
   * The guarded route's pattern (`/v1/chat/completions`, ...) from the request's arrival on it until
   * its guarded call starts (which records its own decision): a 400, 413 or 415 in between is
   * audited as an `invalid_request` refusal, a 503 policy_unavailable as `policy_unavailable`.
   * Undefined on every other route.
   */
  guardedRoute: string | undefined;
  /**
   * The policy a guarded route resolved for this request, once it has: a refusal its settings make
   * before the guarded call (control tokens written as text) is audited with the version that made it.
   */
  policy: { id: string; version: string } | undefined;

  /** `clientRequestId`: the id the client sent (`x-client-request-id` or `x-request-id`), kept only as a labelled field for correlation. */
  constructor(readonly clientRequestId: string | undefined) {}
}

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Pure: the client's own request id, when it is one we can record safely (printable, bounded). */
export function clientRequestIdOf(header: string | undefined): string | undefined {
  return header !== undefined && CLIENT_ID.test(header) ? header : undefined;
}

const CONTEXT = Symbol('safety-gateway.requestContext');
type WithContext = ServerResponse & { [CONTEXT]?: RequestContext };

/** Makes the request's context as it arrives: its own id and the first headers. */
export function startContext(req: IncomingMessage, res: ServerResponse): RequestContext {
  // A client-chosen id could collide with another request's (or another app's) on purpose, so the
  // gateway always issues its own and keeps the client's apart.
  const ctx = new RequestContext(clientRequestIdOf(headerValue(req, 'x-client-request-id') ?? headerValue(req, 'x-request-id')));
  (res as WithContext)[CONTEXT] = ctx;
  res.setHeader('x-request-id', ctx.requestId);
  // Until a guard decides (setSafetyHeaders), nothing was judged: a refusal before any guard, the
  // review page's 401 or a client gone before its answer reads `none`, never `allow`.
  res.setHeader('x-safety-verdict', 'none');
  return ctx;
}

export function requestContextMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
  startContext(req, res);
  next();
}

export function contextOf(res: ServerResponse): RequestContext {
  return (res as WithContext)[CONTEXT]!;
}

/** A request header as one string (node joins repeated ones), as express's req.header reads it. */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The x-safety-verdict values: a policy verdict, `error` when a guard fault kept the gateway from
 * reaching one, or `none` when nothing was judged (a refusal before any guard ran: 400, 401, 404,
 * 413, 415, 429, 503 policy_unavailable).
 */
export type VerdictHeader = 'allow' | 'flag' | 'block' | 'error' | 'none';

/** Sets the timing and verdict headers; call just before the status line goes out. */
export function setSafetyHeaders(res: ServerResponse, verdict: VerdictHeader, policyRef?: string): void {
  if (res.headersSent) return;
  const { timing } = contextOf(res);
  res.setHeader('x-safety-verdict', verdict);
  if (policyRef) res.setHeader('x-safety-policy', policyRef);
  res.setHeader('x-gateway-overhead-ms', timing.overheadMs().toFixed(1));
  res.setHeader('x-guard-duration-ms', timing.guardMs.toFixed(1));
}

import type { Attributes } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GATEWAY, SECURITY } from './attributes';
import { instruments } from './metrics';

/** Probes and scrapes: every few seconds each, they would swamp the latency of the requests that matter. */
const UNMEASURED = new Set(['/healthz', '/readyz', '/metrics']);

/** What the latency histogram reads of a request once it is answered. */
export interface RequestFacts {
  /** The URL path (probes and scrapes are not measured). */
  path: string;
  /** The matched route pattern, once known (never the raw path: bounded values only). */
  route(): string | undefined;
  /** Whether the client asked for a stream. */
  stream(): boolean;
}

/**
 * Requests in flight, and the whole-request latency histogram (received to last byte sent, streams
 * included) by route, method, status, stream or not, and the x-safety-verdict the client got.
 * Called as the request arrives; without an OpenTelemetry SDK the instruments are no-ops.
 */
export function observeRequest(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): void {
  if (UNMEASURED.has(facts.path)) return;
  const started = performance.now();
  // The instruments of this moment: if the SDK is replaced meanwhile, the -1 still meets its +1.
  const m = instruments();
  m.inFlight.add(1);
  res.once('close', () => {
    m.inFlight.add(-1);
    m.requestDuration.record((performance.now() - started) / 1000, requestAttributes(req, res, facts));
  });
}

/** The histogram's attributes: bounded values only (the matched route pattern, never the raw path). */
export function requestAttributes(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Attributes {
  const route = facts.route();
  const verdict = res.getHeader('x-safety-verdict');
  // Set one by one in this order, not spread from conditional objects: that cost a request about a microsecond.
  const attributes: Attributes = { [GATEWAY.HTTP_METHOD]: req.method ?? '', [GATEWAY.HTTP_STATUS]: sentStatus(res) };
  if (route !== undefined) attributes[GATEWAY.HTTP_ROUTE] = route;
  attributes[GATEWAY.STREAM] = facts.stream();
  if (typeof verdict === 'string') attributes[SECURITY.ACTION] = verdict;
  return attributes;
}

/** The status the client got: 499 (as nginx logs it, and the audit record) when it left before any answer, not the unsent default 200. */
export function sentStatus(res: ServerResponse): number {
  return res.headersSent ? res.statusCode : 499;
}

import { EngineError } from './errors';

/**
 * Which failures another upstream may fix. All of them happen before the engine's first byte
 * (EngineClient.post resolves on the response head), so nothing has reached the client yet:
 * unreachable, timed out before answering, or answered 5xx. A 4xx is the request's own fault and
 * is never retried; an abort is the client's choice.
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof EngineError && (err.failure === 'unreachable' || err.failure === 'timeout' || err.failure === 'bad_gateway');
}

/**
 * The order to try upstreams in: healthy ones round-robin from `turn` (spreading load over
 * replicas), then the unhealthy ones as a last resort, since a health check can be stale and
 * trying beats refusing.
 */
export function failoverOrder(count: number, healthy: (i: number) => boolean, turn: number): number[] {
  const rotated = Array.from({ length: count }, (_, k) => (turn + k) % count);
  return [...rotated.filter(healthy), ...rotated.filter((i) => !healthy(i))];
}

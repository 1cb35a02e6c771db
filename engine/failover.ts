import { EngineError } from './errors';

/**
 * Which failures another upstream may fix, without the engine doing the work twice. All happen
 * before the engine's first byte (EngineClient.post resolves on the response head), so nothing
 * has reached the client yet: unreachable, a connect timeout (nothing was sent), an answered 5xx
 * or 429 (refused, nothing generated), and for a streamed request a first-byte timeout (its
 * headers come as generation starts). A non-streamed request's first-byte timeout and any total
 * timeout are not retried: a non-streamed answer's headers come only once it is whole, so the
 * engine may be generating it still (another replica would generate it again, and the client
 * would wait the timeout once per replica). A 4xx is the request's own fault; an abort is the client's choice.
 */
export function isRetryable(err: unknown, streamed = false): boolean {
  if (!(err instanceof EngineError)) return false;
  // A streamed answer's headers come as generation starts: no first byte means nothing was generated yet.
  if (err.failure === 'timeout') return err.stage === 'connect' || (streamed && err.stage === 'first_byte');
  return err.failure === 'unreachable' || err.failure === 'bad_gateway';
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

import type { IncomingMessage, ServerResponse } from 'node:http';
import { contextOf } from '../../pipeline/requestContext';
import { rateLimitHeaders, retryAfterSeconds, setHeaders } from './headers';
import type { ConcurrencySlots } from './concurrencySlots';
import type { LimiterStore } from './limiterStore';
import { rateLimitError } from './rateLimitError';

/**
 * Requests per minute and concurrent requests, before the body is read (a refused client costs
 * no parsing). A concurrency slot is held until the response closes, however it ends.
 */
export function requestLimits(store: LimiterStore, slots: ConcurrencySlots) {
  return async (_req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): Promise<void> => {
    const access = contextOf(res).access;
    if (!access) return next();
    const { requests_per_minute: rpm, concurrent_requests: concurrency } = access.limits;
    if (rpm) {
      const taken = await store.take('requests', access.subject, rpm, 1, false);
      setHeaders(res, rateLimitHeaders('requests', { limit: rpm, remaining: taken.remaining, resetMs: taken.resetMs }));
      if (!taken.allowed) {
        res.setHeader('retry-after', String(retryAfterSeconds(taken.resetMs)));
        return next(rateLimitError('requests', rpm, 1, taken.resetMs));
      }
    }
    if (concurrency) {
      const slot = await slots.take(access.subject, concurrency);
      if (!slot.allowed) {
        res.setHeader('retry-after', '1');
        return next(rateLimitError('concurrency', concurrency, 1, 1000));
      }
      // A client that left while the slot was being taken already closed: give it back now.
      if (res.closed || res.destroyed) void slot.release();
      else res.once('close', () => void slot.release());
    }
    next();
  };
}

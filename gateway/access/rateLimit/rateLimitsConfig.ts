import { z } from 'zod';
import { KeyLimits } from './keyLimits';

/** `rate_limits:` in the gateway config. */
export const RateLimitsConfig = z.strictObject({
  /** memory: one process. redis: shared by every replica (with an in-memory fallback while Redis is down). */
  store: z.enum(['memory', 'redis']).default('memory'),
  /** redis://[:password@]host:port[/db] (rediss:// for TLS); also REDIS_URL. */
  redis_url: z
    .string()
    .regex(/^rediss?:\/\/[^\s]+$/, 'a Redis URL: redis://host:6379 (rediss:// for TLS), e.g. redis://redis:6379; `host:port` alone is read as a scheme and a path')
    .optional(),
  /** Prefix of the Redis keys, so several gateways (or environments) can share one Redis apart. */
  key_prefix: z.string().regex(/^[A-Za-z0-9:_.-]+$/).default('safety-gateway'),
  /** Limits for keys that set none, and for every client when the gateway runs without keys. */
  defaults: KeyLimits.prefault({}),
  /** Completion tokens reserved for a request that sets no max_tokens (refunded from the engine's usage). */
  default_max_tokens: z.number().int().positive().default(4096),
});
export type RateLimitsConfig = z.infer<typeof RateLimitsConfig>;

import { z } from 'zod';

/**
 * Per-key limits. Each one is optional: an absent limit is not enforced (and its headers are not
 * sent). A key's own limits override the configured defaults one by one.
 */
export const KeyLimits = z.strictObject({
  requests_per_minute: z.number().int().positive().optional(),
  tokens_per_minute: z.number().int().positive().optional(),
  concurrent_requests: z.number().int().positive().optional(),
});
export type KeyLimits = z.infer<typeof KeyLimits>;

export function effectiveLimits(own: KeyLimits | undefined, defaults: KeyLimits): KeyLimits {
  return {
    requests_per_minute: own?.requests_per_minute ?? defaults.requests_per_minute,
    tokens_per_minute: own?.tokens_per_minute ?? defaults.tokens_per_minute,
    concurrent_requests: own?.concurrent_requests ?? defaults.concurrent_requests,
  };
}

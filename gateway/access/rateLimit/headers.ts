import type { ServerResponse } from 'node:http';

/** The two limit families OpenAI reports in headers. */
export type HeaderKind = 'requests' | 'tokens';

export interface LimitState {
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets (the limit is whole again). */
  resetMs: number;
}

/**
 * OpenAI's reset format: a Go-style duration, e.g. `20ms`, `1s`, `6m0s`, `1.5s`. SDKs parse it to
 * back off, so it has to look exactly like theirs.
 */
export function formatReset(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const minutes = Math.floor(total / 60_000);
  const seconds = (total - minutes * 60_000) / 1000;
  const s = `${Number(seconds.toFixed(3))}s`;
  return minutes > 0 ? `${minutes}m${s}` : s;
}

/** x-ratelimit-{limit,remaining,reset}-{requests,tokens}. */
export function rateLimitHeaders(kind: HeaderKind, state: LimitState): Record<string, string> {
  return {
    [`x-ratelimit-limit-${kind}`]: String(state.limit),
    [`x-ratelimit-remaining-${kind}`]: String(Math.max(0, state.remaining)),
    [`x-ratelimit-reset-${kind}`]: formatReset(state.resetMs),
  };
}

/** Retry-After in whole seconds (HTTP allows no fractions), at least 1 so clients never spin. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Sets each header (the rate-limit headers are strings already). */
export function setHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const name of Object.keys(headers)) res.setHeader(name, headers[name]);
}

import type { ServerOptions } from 'node:http';
import type { HardeningLimits } from './limitsConfig';

/**
 * node:http limits for slow and oversized clients. `requestTimeout` covers receiving the request
 * (head and body) only, never a long streamed answer. Node checks these timers every
 * `connectionsCheckingInterval` (30 s by default), which would let a slow-loris client hold a
 * socket well past its limit, so the check runs a few times per timeout.
 */
export function httpServerOptions(limits: Pick<HardeningLimits, 'header_bytes' | 'headers_timeout_ms' | 'request_timeout_ms'>): ServerOptions {
  const requestTimeout = limits.request_timeout_ms;
  // node refuses a headersTimeout longer than requestTimeout.
  const headersTimeout = Math.min(limits.headers_timeout_ms, requestTimeout);
  return {
    maxHeaderSize: limits.header_bytes,
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    // A missing Host is refused in OpenAI's shape by hostHeader.ts, not with node's bare 400.
    requireHostHeader: false,
  };
}

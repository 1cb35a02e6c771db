import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../errors';
import { effectiveLimits, type KeyLimits } from '../rateLimit/keyLimits';
import { contextOf, headerValue } from '../../pipeline/requestContext';
import { bearerToken } from './apiKey';
import type { KeyStore } from './keyStore';

/** OpenAI's 401, carrying why (for the audit record and metrics). The message never repeats the presented key, not even part of it. */
export class UnauthenticatedError extends ApiError {
  constructor(
    readonly reason: 'missing_key' | 'invalid_key',
    message?: string,
  ) {
    super(
      401,
      message ??
        (reason === 'missing_key'
          ? "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY)."
          : 'Incorrect API key provided, or the key was revoked.'),
      'invalid_request_error',
      'invalid_api_key',
      null,
      {},
      { 'www-authenticate': 'Bearer realm="safety-gateway"' },
    );
    this.name = 'UnauthenticatedError';
  }
}

export function invalidApiKey(missing: boolean): UnauthenticatedError {
  return new UnauthenticatedError(missing ? 'missing_key' : 'invalid_key');
}

/**
 * /v1 authentication. With keys: a valid bearer key names the app and its policy (into the request
 * context) and its limits; anything else is a 401. Without keys (loopback only): every caller is
 * `anonymous`, rate-limited by client address under the default limits.
 */
export function authenticate(store: KeyStore, defaults: KeyLimits, clientOf: (req: IncomingMessage) => string | undefined) {
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const ctx = contextOf(res);
    if (!store.enabled) {
      ctx.access = { subject: `ip:${clientOf(req) ?? 'unknown'}`, limits: defaults };
      next();
      return;
    }
    const token = bearerToken(headerValue(req, 'authorization'));
    const identity = token ? store.lookup(token) : undefined;
    if (!identity) {
      next(invalidApiKey(token === undefined));
      return;
    }
    ctx.app = identity.app;
    ctx.policyId = identity.policy;
    ctx.keyId = identity.keyId;
    ctx.access = { subject: `key:${identity.keyId}`, limits: effectiveLimits(identity.limits, defaults) };
    next();
  };
}

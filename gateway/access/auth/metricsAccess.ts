import type { NextFunction, Request, Response } from 'express';
import { bearerToken, hashApiKey, hashesEqual } from './apiKey';
import { UnauthenticatedError } from './authenticate';

/**
 * Who may read GET /metrics. The metrics name every app and their traffic (and the OTel resource
 * names the process's command line), so app keys are not enough: a tenant must not read the
 * others'. With API keys configured, or a metrics key set, the scraper sends
 * `Authorization: Bearer <metrics key>` (config `metrics.api_key`, env SAFETY_METRICS_KEY). A
 * gateway without keys listens on loopback only, and its /metrics stays open, as its API does.
 */
export interface MetricsAccess {
  keysEnabled: boolean;
  metricsKey?: string;
}

/** Pure: whether GET /metrics needs the metrics key. */
export function metricsKeyRequired(access: MetricsAccess): boolean {
  return access.keysEnabled || !!access.metricsKey;
}

/** Pure: what a refused scraper is told: an app's key is not wrong, it is the wrong kind of key. */
export function metricsRefusal(keySent: boolean, metricsKeySet: boolean): string {
  if (!metricsKeySet) return 'GET /metrics is closed: API keys are in use and no metrics key is set (config metrics.api_key, env SAFETY_METRICS_KEY). App keys never open it.';
  return keySent
    ? 'That is not the metrics key: GET /metrics takes the metrics key (config metrics.api_key, env SAFETY_METRICS_KEY), not an app\'s API key.'
    : 'GET /metrics needs the metrics key (config metrics.api_key, env SAFETY_METRICS_KEY) as Authorization: Bearer <key>.';
}

export function metricsAuth(access: MetricsAccess) {
  const expected = access.metricsKey ? hashApiKey(access.metricsKey) : undefined;
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!metricsKeyRequired(access)) return next();
    const token = bearerToken(req.header('authorization'));
    // Without a metrics key configured, nothing opens it: keys alone never expose it.
    if (token !== undefined && expected && hashesEqual(hashApiKey(token), expected)) return next();
    next(new UnauthenticatedError(token === undefined ? 'missing_key' : 'invalid_key', metricsRefusal(token !== undefined, !!expected)));
  };
}

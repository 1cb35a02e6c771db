import type { Request, RequestHandler, Response } from 'express';
import { prometheusHandler } from './telemetrySdk';

/** GET /metrics: the OpenTelemetry metrics in Prometheus text format, on the gateway's own port. */
export function metricsRoute(): RequestHandler {
  return (req: Request, res: Response) => {
    const handler = prometheusHandler();
    if (!handler) {
      // Still a valid (empty) exposition, so a scraper sees why rather than an error.
      res.status(200).type('text/plain; version=0.0.4').send('# OpenTelemetry is off in this process (OTEL_SDK_DISABLED or telemetry.enabled: false): no metrics\n');
      return;
    }
    handler(req, res);
  };
}

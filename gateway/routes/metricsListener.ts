import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { rejectionOf, reportRejection } from '../access/rejections';
import { StartupError } from '../access/accessLayer';
import { isLoopbackHost } from '../access/auth/loopback';
import { metricsAuth } from '../access/auth/metricsAccess';
import type { GatewayConfig } from '../config';
import { ApiError, notFound, sendError } from '../errors';
import { requestContextMiddleware } from '../pipeline/requestContext';
import type { DecisionRecorder } from '../record/requestRecord';
import { metricsRoute } from '../telemetry/metricsRoute';

/**
 * GET /metrics on a port of its own (config `metrics.port`), for scrapers on the same host or a
 * private network: the gateway's own port then does not serve it. On loopback it is open; on any
 * other interface it needs the metrics key.
 */
export function createMetricsApp(deps: { recorder: DecisionRecorder; apiKey?: string }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContextMiddleware);
  app.get('/metrics', metricsAuth({ keysEnabled: false, metricsKey: deps.apiKey }), metricsRoute());
  app.use((req, _res, next) => next(notFound(`Unknown route: ${req.method} ${req.path.slice(0, 200)} (this port serves GET /metrics only)`)));
  const onError: ErrorRequestHandler = async (err: unknown, req, res, _next) => {
    const apiError = err instanceof ApiError ? err : new ApiError(500, 'The metrics endpoint hit an internal error.', 'api_error', 'internal_error');
    const rejection = rejectionOf(apiError, req, res, req.ip);
    if (rejection) await reportRejection(deps.recorder, rejection);
    sendError(res, apiError);
  };
  app.use(onError);
  return app;
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** Refuses an open metrics port beyond loopback (it would publish every app's traffic). */
export function metricsListenProblem(config: GatewayConfig): string | undefined {
  const { port, host, api_key: apiKey } = config.metrics;
  if (port === undefined || apiKey || isLoopbackHost(host)) return undefined;
  return `refusing to serve /metrics on ${host} without metrics.api_key (or SAFETY_METRICS_KEY): the metrics name every app; listen on loopback (metrics.host: 127.0.0.1) or set a key`;
}

export async function startMetricsListener(config: GatewayConfig, recorder: DecisionRecorder): Promise<MetricsListener> {
  const problem = metricsListenProblem(config);
  if (problem) throw new StartupError(problem);
  const server = http.createServer(createMetricsApp({ recorder, apiKey: config.metrics.api_key }));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metrics.port, config.metrics.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.metrics.host.includes(':') ? `[${config.metrics.host}]` : config.metrics.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

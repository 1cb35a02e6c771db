import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReviewService, isLoopbackHost, type ReviewServiceOptions } from './reviewService';

export interface ReviewServerOptions extends ReviewServiceOptions {
  host: string;
  port: number;
}

export interface RunningReview {
  url: string;
  close(): Promise<void>;
}

/** `safety-gateway review`: the review page on its own port, at /review (/ redirects there). */
export async function startReviewServer(options: ReviewServerOptions): Promise<RunningReview> {
  if (!options.adminKey && !isLoopbackHost(options.host)) {
    throw new Error(`no admin key is configured, so the review page listens on loopback only (asked for ${options.host}); set SAFETY_REVIEW_ADMIN_KEY or review.admin_key to serve it further`);
  }
  const service = createReviewService(options);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/', (_req, res) => res.redirect(302, '/review/'));
  app.use('/review', service.router);
  app.use((_req, res) => res.status(404).type('text/plain').send('Not found: the review page is at /review/\n'));
  const server = http.createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
  } catch (err) {
    service.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host}:${port}/review/`;
  options.log(`review: serving ${options.auditDir} at ${url}${options.adminKey ? ' (admin key required)' : ' (no admin key: loopback only)'}`);
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      service.close();
    },
  };
}

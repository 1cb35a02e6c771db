import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRealGateway } from '../telemetry/realGateway';

/**
 * An engine whose API server still lists its models while it cannot generate (vLLM with a hung
 * engine core answers /v1/models, and its /health fails): with `engine.health_path: /health`,
 * /readyz sees it; with the default (GET /models) it cannot.
 */
async function hungEngine(): Promise<{ url: string; healthChecks: () => number; close(): Promise<void> }> {
  let checks = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: [{ id: 'dev', object: 'model' }] }));
    }
    if (req.url === '/health') {
      checks++;
      res.writeHead(503);
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, healthChecks: () => checks, close: () => new Promise((r) => server.close(() => r())) };
}

describe('engine.health_path', () => {
  test('a health path that fails makes /readyz not ready, where GET /models alone says ready', async () => {
    const engine = await hungEngine();
    const withPath = await startRealGateway({ config: { engine: { url: engine.url, health_path: '/health' } } });
    const without = await startRealGateway({ config: { engine: { url: engine.url } } });
    try {
      const notReady = await fetch(`${withPath.gateway.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { problems: Record<string, string> }).problems.engine).toMatch(/health check failed/);
      expect(engine.healthChecks()).toBeGreaterThan(0);
      expect((await fetch(`${without.gateway.url}/readyz`)).status).toBe(200);
    } finally {
      await withPath.close();
      await without.close();
      await engine.close();
    }
  });
});

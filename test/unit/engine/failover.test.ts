import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EngineError } from '../../../engine/errors';
import { failoverOrder, isRetryable } from '../../../engine/failover';
import { UpstreamHealth } from '../../../engine/health';
import { UpstreamPool } from '../../../engine/upstreams';

describe('failover', () => {
  test('failures before the first byte are retryable; aborts and other errors are not', () => {
    expect(isRetryable(new EngineError('unreachable', 'x'))).toBe(true);
    // Only a connect timeout: after the request went out the engine may be generating the answer still.
    expect(isRetryable(new EngineError('timeout', 'x', undefined, 'connect'))).toBe(true);
    for (const stage of ['first_byte', 'idle', 'total'] as const) expect(isRetryable(new EngineError('timeout', 'x', undefined, stage))).toBe(false);
    // A stream's headers come as generation starts: no first byte, nothing generated yet.
    expect(isRetryable(new EngineError('timeout', 'x', undefined, 'first_byte'), true)).toBe(true);
    expect(isRetryable(new EngineError('timeout', 'x', undefined, 'total'), true)).toBe(false);
    expect(isRetryable(new EngineError('unreachable', 'overloaded', 429))).toBe(true);
    expect(isRetryable(new EngineError('bad_gateway', 'x', 503))).toBe(true);
    expect(isRetryable(new EngineError('aborted', 'x'))).toBe(false);
    expect(isRetryable(new Error('x'))).toBe(false);
  });

  test('healthy upstreams round-robin first, unhealthy ones last', () => {
    const all = () => true;
    expect(failoverOrder(3, all, 0)).toEqual([0, 1, 2]);
    expect(failoverOrder(3, all, 4)).toEqual([1, 2, 0]);
    expect(failoverOrder(3, (i) => i !== 1, 1)).toEqual([2, 0, 1]);
    expect(failoverOrder(2, () => false, 0)).toEqual([0, 1]);
  });

  test('a failure marks an upstream down at once; only a passing check brings it back', () => {
    const changes: string[] = [];
    const health = new UpstreamHealth(2, (i, up) => changes.push(`${i}:${up}`));
    health.failed(1, 'refused');
    health.failed(1, 'refused');
    expect(health.isUp(1)).toBe(false);
    expect(health.upCount).toBe(1);
    health.checked(1, true);
    expect(health.isUp(1)).toBe(true);
    expect(changes).toEqual(['1:false', '1:true']);
  });

  test('an upstream held down (it timed out) stays down through passing health checks until the hold ends; a failing check still counts', async () => {
    const health = new UpstreamHealth(2);
    health.failed(0, 'first byte timeout', 60);
    health.checked(0, true);
    expect(health.isUp(0)).toBe(false);
    health.failed(0, 'refused'); // no hold: the longer one stands
    health.checked(0, true);
    expect(health.isUp(0)).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    health.checked(0, true);
    expect(health.isUp(0)).toBe(true);
  });
});

describe('the upstream pool log', () => {
  test("a replica marked down is logged with the cause in fixed words, never the engine's own text (newlines could forge log lines)", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'boom\nengine upstream 2/2 (http://forged/v1) up: health check passed SECRET-PROMPT-ECHO' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const lines: string[] = [];
    const settings = { connectTimeoutMs: 1000, firstByteTimeoutMs: 1000, idleTimeoutMs: 1000, totalTimeoutMs: 5000 };
    const pool = new UpstreamPool([{ baseUrl: base, ...settings }, { baseUrl: base, ...settings }], { retries: 1, healthIntervalMs: 60_000, log: (l) => lines.push(l) });
    try {
      await pool.post('/chat/completions', { model: 'dev', messages: [] }).catch(() => undefined);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^engine upstream \d\/2 \(http:\/\/127\.0\.0\.1:\d+\/v1\) DOWN: engine HTTP 500$/);
    } finally {
      await pool.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from '../../support/gatewayHarness';

/** For one describe: a gateway (the fixture policy) in front of `server`, started before its tests and closed after. */
function gatewayInFrontOf(server: http.Server): () => Harness {
  let h: Harness;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    h = await startHarness({ engineUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` });
  });
  afterAll(async () => {
    await h.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return () => h;
}

/** A passthrough route (the fixture policy lists /v1/embeddings) whose engine breaks off mid-answer. */
describe('passthrough: the engine resets after its status line', () => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"object":"list","data":[{"embedding":[0.1,');
      setTimeout(() => res.socket?.destroy(), 30);
    });
  });
  const gw = gatewayInFrontOf(server);

  test('the client sees the break at once, not a response that stays open (or one that looks complete)', async () => {
    // node:http, which reports an incomplete chunked body (undici's fetch takes a close under `connection: close` as the end)
    const outcome = await new Promise<string>((resolve) => {
      const url = new URL(`${gw().baseUrl}/embeddings`);
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.on('aborted', () => resolve('aborted'));
        res.on('error', () => resolve('aborted'));
        res.on('end', () => resolve(res.complete ? 'complete' : 'aborted'));
        res.resume();
      });
      req.on('error', () => resolve('aborted'));
      req.end('{"model":"dev","input":"x"}');
      setTimeout(() => resolve('still open'), 3000); // without the fix: open until the engine's total timeout (10 min)
    });
    expect(outcome).toBe('aborted');
  });
});

/** A passthrough route whose engine never answers, or is not there at all. */
describe('passthrough: an engine that times out, or that nothing listens for', () => {
  const server = http.createServer((req) => req.resume()); // never answers
  let h: Harness;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    h = await startHarness({ engineUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, config: { engine: { total_timeout_ms: 500 } } });
  });
  afterAll(async () => {
    await h.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const embeddings = (base: string) => fetch(`${base}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"dev","input":"x"}' });

  test('a timeout: 504 engine_timeout, as on the guarded routes, and the openai SDKs are told not to retry (each retry would wait the timeout out again)', async () => {
    const res = await embeddings(h.baseUrl);
    expect(res.status).toBe(504);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_timeout');
  });

  test("the engine's first-byte timeout bounds a passthrough request too, not only the total (600 s by default)", async () => {
    const quick = await startHarness({ engineUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, config: { engine: { first_byte_timeout_ms: 300, idle_timeout_ms: 300, total_timeout_ms: 20_000 } } });
    try {
      const res = await embeddings(quick.baseUrl);
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_timeout');
    } finally {
      await quick.close();
    }
  });

  test('nothing listening: 503 engine_unavailable, as on the guarded routes, retryable (nothing reached the engine)', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const other = await startHarness({ engineUrl: `http://127.0.0.1:${port}/v1` });
    try {
      const res = await embeddings(other.baseUrl);
      expect(res.status).toBe(503);
      expect(res.headers.get('x-should-retry')).toBeNull();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_unavailable');
    } finally {
      await other.close();
    }
  });
});

/** Several engine upstreams: a passthrough request goes to the next healthy one, as a guarded request's first try does. */
describe('passthrough: upstream 1 down, upstream 2 up', () => {
  const served: string[] = [];
  const up = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'dev', object: 'model' }] }));
      res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1] }] }));
    });
  });
  let h: Harness;
  beforeAll(async () => {
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const down = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    h = await startHarness({ engineUrl: `http://127.0.0.1:${down}/v1`, config: { engine: { upstreams: [{ url: `http://127.0.0.1:${(up.address() as AddressInfo).port}/v1`, api_key: 'key-of-upstream-2' }], health_interval_ms: 100 } } });
    // The health checks mark upstream 1 down.
    for (let i = 0; i < 50 && !served.some((s) => s.startsWith('GET /v1/models')); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
  });
  afterAll(async () => {
    await h.close();
    up.closeAllConnections();
    await new Promise<void>((r) => up.close(() => r()));
  });

  test('every passthrough request is served by the healthy upstream, with that upstream\'s own key', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${h.baseUrl}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"dev","input":"x"}' });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(served.filter((s) => s.startsWith('POST /v1/embeddings'))).toEqual(Array(4).fill('POST /v1/embeddings Bearer key-of-upstream-2'));
  });
});

/** An engine refusing the gateway's key on a passthrough route: the gateway's fault, said as on the guarded routes. */
describe("passthrough: the engine refuses the gateway's key", () => {
  const served: string[] = [];
  const refusing = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served.push(`${req.method} ${req.url}`);
      // Its open health route (vLLM's /health needs no key) passes; everything under /v1 refuses the gateway's key.
      if (req.url === '/health') return res.end();
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Invalid API key', type: 'invalid_request_error', code: 'invalid_api_key' } }));
    });
  });
  const up = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served.push(`ok ${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'dev', object: 'model' }] }));
      res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1] }] }));
    });
  });
  const embeddings = (base: string) => fetch(`${base}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"dev","input":"x"}' });
  beforeAll(async () => {
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    refusing.closeAllConnections();
    up.closeAllConnections();
    await new Promise<void>((r) => refusing.close(() => r()));
    await new Promise<void>((r) => up.close(() => r()));
  });

  test('one engine: a 502 engine_error about the gateway, never the engine\'s 401 (the app\'s SDK would blame its own key)', async () => {
    const h = await startHarness({ engineUrl: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/v1` });
    try {
      const res = await embeddings(h.baseUrl);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status).toBe(502);
      expect(body.error.code).toBe('engine_error');
      expect(body.error.message).toBe('The engine refused the gateway (HTTP 401).');
      expect(JSON.stringify(body)).not.toContain('invalid_api_key');
    } finally {
      await h.close();
    }
  });

  test('several engines: the refusing replica is marked down, so the next passthrough requests go to the other, and its open health route does not bring it back', async () => {
    const refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/v1`;
    const upUrl = `http://127.0.0.1:${(up.address() as AddressInfo).port}/v1`;
    // A health route anyone may call (vLLM's /health): it passes for the refusing replica too.
    const h = await startHarness({ engineUrl: refusingUrl, config: { engine: { upstreams: [{ url: upUrl }], health_path: '/health', health_interval_ms: 100 } } });
    const before = served.filter((s) => s === 'POST /v1/embeddings').length;
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await embeddings(h.baseUrl);
        statuses.push(res.status);
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 150)); // health checks run in between
      }
      // At most the first request met the refusing replica; every later one went to the other.
      expect(statuses.slice(1)).toEqual([200, 200, 200, 200, 200]);
      expect(served.filter((s) => s === 'POST /v1/embeddings').length - before).toBeLessThanOrEqual(1);
      // Its open health route kept passing; the checks that kept it out were made with the key.
      expect(served).toContain('GET /health');
    } finally {
      await h.close();
    }
  });
});

/** An engine (or the proxy in front of it, which issues its own x-request-id) answering with headers the gateway sets itself. */
describe("passthrough: the engine's answer headers never replace the gateway's own", () => {
  const seen: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers['x-request-id'] as string | undefined);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'envoy-0b4f2c', 'x-safety-passthrough': 'false', 'x-safety-verdict': 'block', 'x-safety-policy': 'other@1', 'x-guard-duration-ms': '999', 'x-engine-note': 'kept' });
      res.end('{"object":"list","data":[]}');
    });
  });
  const gw = gatewayInFrontOf(server);

  test("x-request-id is the id the gateway sent the engine (and logs); the safety headers are the gateway's; other engine headers pass", async () => {
    const res = await fetch(`${gw().baseUrl}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"dev","input":"x"}' });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toMatch(/^req_/);
    expect(res.headers.get('x-request-id')).toBe(seen.at(-1));
    expect(res.headers.get('x-safety-passthrough')).toBe('true');
    expect(res.headers.get('x-safety-verdict')).toBe('allow');
    expect(res.headers.get('x-safety-policy')).toMatch(/^fixture@/);
    expect(res.headers.get('x-guard-duration-ms')).not.toBe('999');
    expect(res.headers.get('x-engine-note')).toBe('kept');
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway } from '../../../gateway/server';
import { FIXTURE_POLICY, startHarness, type Harness } from '../../support/gatewayHarness';

const SECRET_CONTENT = 'my-private-medical-history-4242';
const UPSTREAM_KEY = 'sk-upstream-do-not-leak-9876';
const STACK = /at .*\.(ts|js):\d+|node:internal|\/work\/|node_modules/;

/** Errors never carry stack traces, internal hostnames, upstream keys or user content; logs hold no secrets. */
describe('error and log hygiene', () => {
  let h: Harness;
  let enginePort: number;
  beforeAll(async () => {
    // An engine address that names an internal host and carries credentials, and is down.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    enginePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    h = await startHarness({ engineUrl: `http://admin:hunter2@localhost:${enginePort}/v1`, config: { engine: { api_key: UPSTREAM_KEY } } });
  });
  afterAll(async () => h.close());

  const post = (body: string) => fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const clean = (text: string) => {
    expect(text).not.toMatch(STACK);
    expect(text).not.toContain(SECRET_CONTENT);
    expect(text).not.toContain(UPSTREAM_KEY);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('localhost');
    expect(text).not.toContain(String(enginePort));
  };

  test('engine down: 503 without host, port, credentials or the prompt', async () => {
    const res = await post(JSON.stringify({ messages: [{ role: 'user', content: SECRET_CONTENT }] }));
    expect(res.status).toBe(503);
    clean(await res.text());
  });

  test('broken JSON, wrong types and unknown values: 400 without the user content', async () => {
    for (const body of [
      `{"messages":[{"role":"user","content":"${SECRET_CONTENT}"`,
      JSON.stringify({ messages: [{ role: SECRET_CONTENT, content: 'x' }] }),
      JSON.stringify({ messages: [{ role: 'user', content: [{ type: 42, note: SECRET_CONTENT }] }] }),
      JSON.stringify({ messages: [{ role: 'user', content: SECRET_CONTENT }], max_tokens: SECRET_CONTENT }),
    ]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      clean(await res.text());
    }
  });

  test('an engine 5xx body (which may name its hosts) never reaches the client', async () => {
    const engine = http.createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `worker gpu-node-17.internal crashed at /opt/vllm/engine.py:123 on prompt ${SECRET_CONTENT}` } }));
    });
    await new Promise<void>((r) => engine.listen(0, '127.0.0.1', () => r()));
    const g = await startHarness({ engineUrl: `http://127.0.0.1:${(engine.address() as AddressInfo).port}/v1` });
    try {
      const res = await fetch(`${g.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) });
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(text).not.toContain('gpu-node-17');
      expect(text).not.toContain('/opt/vllm');
      expect(text).not.toContain(SECRET_CONTENT);
    } finally {
      await g.close();
      await new Promise<void>((r) => engine.close(() => r()));
    }
  });

  test('startup logs name hosts but never credentials, upstream keys or API keys', async () => {
    const lines: string[] = [];
    const config = GatewayConfig.parse({
      port: 0,
      policy: FIXTURE_POLICY,
      engine: { url: `http://admin:hunter2@127.0.0.1:${enginePort}/v1`, api_key: UPSTREAM_KEY, upstreams: [{ url: `http://u:pw-second@127.0.0.1:${enginePort}/v1`, api_key: `${UPSTREAM_KEY}-2` }] },
      keys: { inline: [{ app: 'a', hash: `sha256:${'0'.repeat(64)}` }] },
      rate_limits: { store: 'redis', redis_url: 'redis://:redis-password-xyz@127.0.0.1:1/0' },
    });
    const gateway = await startGateway({ config, log: (l) => lines.push(l) });
    await gateway.shutdown(200);
    const log = lines.join('\n');
    expect(log).toContain('redis://127.0.0.1:1');
    for (const secret of ['hunter2', 'pw-second', UPSTREAM_KEY, 'redis-password-xyz', '0'.repeat(64)]) expect(log).not.toContain(secret);
  });
});

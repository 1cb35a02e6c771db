import { readFileSync, writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway } from '../../../gateway/server';
import { FIXTURE_POLICY, startHarness, type Harness } from '../../support/gatewayHarness';
import { addKey, eventually, keysCli, tempKeysFile } from '../../support/keys';

const chat = (h: Harness, headers: Record<string, string> = {}) =>
  fetch(`${h.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }) });

describe('API keys', () => {
  let h: Harness;
  let file: string;
  let webKey: string;
  beforeAll(async () => {
    file = tempKeysFile();
    webKey = await addKey(file, 'web-shop', ['--policy', 'fixture']);
    await addKey(file, 'batch');
    h = await startHarness({ config: { keys: { file, reload_interval_ms: 50 } } });
  });
  afterAll(async () => h.close());

  test('the keys file holds hashes, never the key', () => {
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('sha256:');
    expect(text).not.toContain(webKey);
    expect(text).not.toContain(webKey.slice(12));
  });

  test('no key: 401 invalid_api_key in OpenAI shape, with WWW-Authenticate', async () => {
    const res = await chat(h);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await res.json()).toEqual({ error: { message: expect.stringContaining('Authorization'), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  });

  test('a wrong key: 401, and the answer does not repeat it', async () => {
    const wrong = `${webKey.slice(0, -4)}AAAA`;
    const res = await chat(h, { authorization: `Bearer ${wrong}` });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe('invalid_api_key');
    expect(text).not.toContain(wrong.slice(6, 20));
  });

  test('a valid key: answered, and the record names the app', async () => {
    const before = h.recorder.records.length;
    const res = await chat(h, { authorization: `Bearer ${webKey}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-safety-policy')).toMatch(/^fixture@/);
    expect(h.recorder.records.slice(before).map((r) => r.app)).toEqual(['web-shop']);
  });

  test("a key's policy id reaches policy selection: a policy the gateway lacks is never swapped for another", async () => {
    const key = await addKey(file, 'strict-app', ['--policy', 'not-loaded-policy']);
    await eventually(async () => (await chat(h, { authorization: `Bearer ${key}` })).status !== 401, 'the new key is accepted');
    const res = await chat(h, { authorization: `Bearer ${key}` });
    expect(res.status).toBe(503);
  });

  test('the official OpenAI client works with the key, and reports a bad key as AuthenticationError', async () => {
    const good = new OpenAI({ baseURL: h.baseUrl, apiKey: webKey, maxRetries: 0 });
    const completion = await good.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0].message.content).toContain('stand-in');
    const bad = new OpenAI({ baseURL: h.baseUrl, apiKey: 'sk-sg-wrong', maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  test('health checks need no key; other /v1 routes do', async () => {
    expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.baseUrl}/models`)).status).toBe(401);
    expect((await fetch(`${h.baseUrl}/models`, { headers: { authorization: `Bearer ${webKey}` } })).status).toBe(200);
  });

  test('a key added while running works, and a revoked key is refused, without a restart', async () => {
    const fresh = await addKey(file, 'late-app');
    await eventually(async () => (await chat(h, { authorization: `Bearer ${fresh}` })).status === 200, 'the new key is accepted');
    const list = await keysCli(['list', '--file', file, '--json']);
    const id = (JSON.parse(list.out) as { id: string; app: string }[]).find((k) => k.app === 'late-app')!.id;
    expect((await keysCli(['revoke', id, '--file', file])).code).toBe(0);
    await eventually(async () => (await chat(h, { authorization: `Bearer ${fresh}` })).status === 401, 'the revoked key is refused');
    expect((await chat(h, { authorization: `Bearer ${webKey}` })).status).toBe(200);
  });

  test('a broken keys file keeps the last good keys in force', async () => {
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, 'keys: [ {{ broken');
    await new Promise((r) => setTimeout(r, 300)); // several reload intervals
    expect((await chat(h, { authorization: `Bearer ${webKey}` })).status).toBe(200);
    writeFileSync(file, good);
  });
});

describe('SAFETY_API_KEYS style inline keys', () => {
  test('an inline key hash authenticates', async () => {
    const { hashApiKey } = await import('../../../gateway/access/auth/apiKey');
    const key = 'sk-sg-inline-test-key-0123456789';
    const h = await startHarness({ config: { keys: { inline: [{ app: 'inline-app', hash: hashApiKey(key) }] } } });
    try {
      expect((await chat(h, { authorization: `Bearer ${key}` })).status).toBe(200);
      expect((await chat(h, { authorization: 'Bearer sk-sg-other-key-0123456789' })).status).toBe(401);
      expect(h.recorder.records.map((r) => r.app)).toEqual(['inline-app']);
      expect(h.recorder.records[0].keyId).toBe('inline_inline-app_1');
    } finally {
      await h.close();
    }
  });
});

describe('open access', () => {
  test('without keys the gateway says so and serves loopback only', async () => {
    const lines: string[] = [];
    const gateway = await startGateway({ config: GatewayConfig.parse({ port: 0, policy: FIXTURE_POLICY }), log: (l) => lines.push(l) });
    try {
      expect(lines.join('\n')).toMatch(/no API keys configured.*loopback/);
    } finally {
      await gateway.shutdown(500);
    }
  });

  test('without keys a non-loopback host is refused with a clear message', async () => {
    await expect(startGateway({ config: GatewayConfig.parse({ port: 0, host: '0.0.0.0', policy: FIXTURE_POLICY }) })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without API keys/);
  });

  test('with keys a non-loopback host is allowed, and the log never holds a key', async () => {
    const file = tempKeysFile();
    const key = await addKey(file, 'app');
    const lines: string[] = [];
    const gateway = await startGateway({ config: GatewayConfig.parse({ port: 0, host: '0.0.0.0', policy: FIXTURE_POLICY, keys: { file }, engine: { url: 'http://127.0.0.1:9/v1', api_key: 'upstream-secret-xyz' } }), log: (l) => lines.push(l) });
    try {
      const res = await fetch(`http://127.0.0.1:${gateway.port}/healthz`);
      expect(res.status).toBe(200);
      const log = lines.join('\n');
      expect(log).toMatch(/API keys: 1 active/);
      expect(log).not.toContain(key);
      expect(log).not.toContain('upstream-secret-xyz');
    } finally {
      await gateway.shutdown(500);
    }
  });
});

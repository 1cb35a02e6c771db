import OpenAI, { InternalServerError } from 'openai';
import { hashApiKey } from '../../gateway/access/auth/apiKey';
import { auditLines } from '../../gateway/audit/auditFiles';
import type { AuditLog } from '../../gateway/audit/auditLog';
import { readAllEntries, type StoredAuditEntry } from '../../gateway/audit/auditQuery';
import { AuditRecorder } from '../../gateway/audit/auditRecorder';
import { verifyChain } from '../../gateway/audit/chainVerifier';
import { runAudit } from '../../gateway/cli/auditCommand';
import { GatewayConfig } from '../../gateway/config';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { shutdownTelemetry } from '../../gateway/telemetry/telemetrySdk';
import { startDevEngine, type DevEngine } from '../../engine/devEngine/server';
import { FIXTURE_POLICY } from '../support/gatewayHarness';
import { addKey, tempKeysFile } from '../support/keys';
import { startRealGateway, type RealGateway } from '../integration/telemetry/realGateway';
import { withReviewPages } from '../support/reviewPages';

/**
 * A key that assigns a policy id the gateway has not loaded gets 503 policy_unavailable (fail
 * closed, nothing forwarded), and that refusal leaves exactly one audit record of its own kind,
 * policy_unavailable: app, key id, the route's pattern and the policy id the key named (bounded),
 * never the request's content. The official openai client sees an ordinary 503 APIError.
 */
const METRICS_KEY = 'metrics-scraper-key-policy-0123456789';
const GHOST_POLICY = 'no-such-policy';
/** In every refused request: it must never reach the audit log. */
const SECRET = 'SECRET-PROMPT-TEXT-9c4a71';

type Json = Record<string, unknown>;

describe('503 policy_unavailable is audited as its own refusal kind', () => {
  let gw: RealGateway;
  const keys: Record<string, string> = {};
  let ghost: OpenAI;

  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    const file = tempKeysFile();
    keys.ghost = await addKey(file, 'ghost-app', ['--policy', GHOST_POLICY]);
    keys.long = await addKey(file, 'long-app', ['--policy', 'p'.repeat(150)]);
    keys.plain = await addKey(file, 'plain-app');
    gw = await startRealGateway({ config: { keys: { file }, metrics: { api_key: METRICS_KEY } } });
    ghost = new OpenAI({ baseURL: gw.baseUrl, apiKey: keys.ghost, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
  });

  const all = (): StoredAuditEntry[] => readAllEntries(gw.auditDir).entries;
  const ofKind = (kind: string) => all().filter((e) => e.kind === kind);

  /** Runs `send`; expects exactly one new audit record, of kind policy_unavailable, under `requestId()`, and returns it. */
  async function auditedOnce(send: () => Promise<string>): Promise<Json> {
    const before = all().length;
    const requestId = await send();
    const after = all();
    expect(after).toHaveLength(before + 1);
    const entry = after.at(-1) as unknown as Json;
    expect(entry).toMatchObject({ kind: 'policy_unavailable', request_id: requestId });
    expect(JSON.stringify(entry)).not.toContain(SECRET);
    return entry;
  }

  test('the openai client gets a 503 APIError policy_unavailable; one record with app, key id, route and policy id, no content', async () => {
    const engineBefore = gw.engine.stats.requests;
    const entry = await auditedOnce(async () => {
      const err = await ghost.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: SECRET }] }, { headers: { 'x-request-id': 'ghost-1' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InternalServerError);
      const e = err as InternalServerError;
      expect(e.status).toBe(503);
      expect(e.code).toBe('policy_unavailable');
      expect(e.type).toBe('api_error');
      const id = e.headers?.get('x-request-id');
      expect(id).toMatch(/^req_[0-9a-f]{32}$/);
      return id!;
    });
    expect(entry).toEqual({
      v: 1,
      kind: 'policy_unavailable',
      request_id: expect.stringMatching(/^req_[0-9a-f]{32}$/),
      client_request_id: 'ghost-1',
      received_at: expect.any(String),
      app: 'ghost-app',
      key_id: expect.stringMatching(/^key_/),
      client: expect.any(String),
      method: 'POST',
      route: '/v1/chat/completions',
      status: 503,
      reason: 'policy_unavailable',
      policy_id: GHOST_POLICY,
      seq: expect.any(Number),
      ts: expect.any(String),
      prev: expect.any(String),
      hash: expect.any(String),
    });
    expect(gw.engine.stats.requests).toBe(engineBefore);
  });

  test('the body is OpenAI-shaped; every guarded route leaves one record naming its pattern', async () => {
    const res = await fetch(`${gw.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.ghost}` },
      body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: SECRET }] }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error: Json };
    expect(body).toEqual({ error: { message: expect.stringContaining(`\`${GHOST_POLICY}\``), type: 'api_error', param: null, code: 'policy_unavailable' } });
    expect(ofKind('policy_unavailable').at(-1)).toMatchObject({ request_id: res.headers.get('x-request-id'), route: '/v1/chat/completions' });

    const completions = await auditedOnce(async () => {
      const err = (await ghost.completions.create({ model: 'dev', prompt: SECRET }).catch((e: unknown) => e)) as InternalServerError;
      expect([err.status, err.code]).toEqual([503, 'policy_unavailable']);
      return err.headers!.get('x-request-id')!;
    });
    expect(completions).toMatchObject({ route: '/v1/completions', app: 'ghost-app', policy_id: GHOST_POLICY, status: 503 });
    const responses = await auditedOnce(async () => {
      const err = (await ghost.responses.create({ model: 'dev', input: SECRET }).catch((e: unknown) => e)) as InternalServerError;
      expect([err.status, err.code]).toEqual([503, 'policy_unavailable']);
      return err.headers!.get('x-request-id')!;
    });
    expect(responses).toMatchObject({ route: '/v1/responses', app: 'ghost-app', policy_id: GHOST_POLICY, status: 503 });
  });

  test('a policy id over 100 characters is recorded bounded to 100', async () => {
    const client = new OpenAI({ baseURL: gw.baseUrl, apiKey: keys.long, maxRetries: 0 });
    const entry = await auditedOnce(async () => {
      const err = (await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: SECRET }] }).catch((e: unknown) => e)) as InternalServerError;
      expect(err.status).toBe(503);
      return err.headers!.get('x-request-id')!;
    });
    expect(entry).toMatchObject({ app: 'long-app', policy_id: 'p'.repeat(100) });
  });

  test('one record per request, never two: an invalid body is invalid_request; another key is a decision', async () => {
    const before = all().length;
    const invalid = await fetch(`${gw.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.ghost}` }, body: '{' });
    expect(invalid.status).toBe(400);
    const plain = new OpenAI({ baseURL: gw.baseUrl, apiKey: keys.plain, maxRetries: 0 });
    await gw.script({ reply: 'fine' });
    const { response } = await plain.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    expect(all().slice(before).map((e) => [e.kind, e.request_id])).toEqual([
      ['invalid_request', invalid.headers.get('x-request-id')],
      ['decision', response.headers.get('x-request-id')],
    ]);
  });

  test('metrics count the refusals by route, app and policy id', async () => {
    const res = await fetch(`${gw.gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^safety_policy_unavailable_rejections_total\{(?=.*http_route="\/v1\/chat\/completions")(?=.*safety_app="ghost-app")(?=.*gen_ai_security_policy_id="no-such-policy").*\} 2$/m);
    expect(text).toMatch(/^safety_policy_unavailable_rejections_total\{(?=.*http_route="\/v1\/responses")(?=.*safety_app="ghost-app").*\} 1$/m);
    expect(text).not.toContain(SECRET);
  });

  test('the chain verifies; audit query --kind and stats show the kind', async () => {
    expect(verifyChain(auditLines(gw.auditDir))).toMatchObject({ ok: true, records: all().length });
    let out = '';
    const io = { out: (t: string) => (out += t), err: () => undefined, env: {} };
    expect(await runAudit(['query', '--dir', gw.auditDir, '--kind', 'policy_unavailable', '--format', 'jsonl'], io)).toBe(0);
    const listed = out.trim().split('\n').map((l) => JSON.parse(l) as Json);
    expect(listed).toHaveLength(5);
    expect(listed.every((e) => e.kind === 'policy_unavailable' && e.status === 503)).toBe(true);
    out = '';
    expect(await runAudit(['query', '--dir', gw.auditDir, '--kind', 'policy_unavailable'], io)).toBe(0);
    expect(out).toMatch(/ghost-app\s+\/v1\/chat\/completions\s+policy_unavailable\s+503\s+policy_unavailable \(policy no-such-policy\)\s+no-such-policy/);
    out = '';
    expect(await runAudit(['stats', '--dir', gw.auditDir, '--format', 'jsonl'], io)).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      byKind: { policy_unavailable: 5, invalid_request: 1, decision: 1 },
      byReason: { 'policy_unavailable:policy_unavailable': 5 },
      byApp: { 'ghost-app': { policy_unavailable: 4, invalid_request: 1 }, 'long-app': { policy_unavailable: 1 }, 'plain-app': { allow: 1 } },
    });
    out = '';
    expect(await runAudit(['stats', '--dir', gw.auditDir], io)).toBe(0);
    expect(out).toMatch(/policy_unavailable:policy_unavailable\s+5/);
    expect(out).toMatch(/app\s+allow\s+flag\s+block\s+error\s+rate_limited\s+unauthenticated\s+invalid_request\s+policy_unavailable\n[- ]+\n(?:.*\n)*ghost-app\s+0\s+0\s+0\s+0\s+0\s+0\s+1\s+4\n/);
    const log = [...auditLines(gw.auditDir)].map((l) => l.text).join('\n');
    expect(log).not.toContain(SECRET);
    for (const key of Object.values(keys)) expect(log).not.toContain(key);
  });

  test('the review page filters by the kind and by the policy id, and shows reason and policy', async () => {
    await withReviewPages(gw.auditDir, async (get) => {
      const list = await get('?kind=policy_unavailable');
      expect(Number(/id="result-count">(\d+) matching/.exec(list)?.[1])).toBe(5);
      expect(list).toContain('<span class="badge policy_unavailable">policy_unavailable</span>');
      expect(list).toContain('policy_unavailable (policy no-such-policy)');
      expect(list).toMatch(/<select[^>]*name="kind"[\s\S]*?<option value="policy_unavailable" selected/);
      const byPolicy = await get(`?policy_id=${GHOST_POLICY}`);
      expect(Number(/id="result-count">(\d+) matching/.exec(byPolicy)?.[1])).toBe(4);
      const row = list.split('<tr').find((r) => r.includes('/review/record?') && r.includes('/v1/responses'))!;
      const href = /href="(\/review\/record\?file=[^"]+)"/.exec(row)![1].replace(/&amp;/g, '&');
      const detail = await get(href);
      expect(detail).toContain('Refusal req_');
      expect(detail).toMatch(/<dt>Reason<\/dt><dd>policy_unavailable<\/dd><dt>Policy \(not loaded\)<\/dt><dd><span class="mono">no-such-policy<\/span><\/dd>/);
      const charts = await get('charts');
      expect(charts).toMatch(/503 policy unavailable \d+\.\d+%/);
      for (const page of [list, byPolicy, detail, charts]) expect(page).not.toContain(SECRET);
    });
  });

  test('on other /v1 paths (passthrough or not), the record keeps the path as sent and the metric one label for all of them; 401 and 429 records name a guarded route by its pattern', async () => {
    for (const i of [1, 2, 3]) {
      const res = await fetch(`${gw.baseUrl}/${SECRET}-${i}/files`, { headers: { authorization: `Bearer ${keys.ghost}` } });
      expect(res.status).toBe(503);
      await res.arrayBuffer();
    }
    expect(ofKind('policy_unavailable').slice(-3).map((e) => e.route)).toEqual([1, 2, 3].map((i) => `/v1/${SECRET}-${i}/files`));
    const text = await (await fetch(`${gw.gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } })).text();
    expect(text).toMatch(/^safety_policy_unavailable_rejections_total\{(?=.*http_route="\/v1\/\*")(?=.*safety_app="ghost-app").*\} 3$/m);
    expect(text).not.toContain(SECRET);
    // The client's spelling of a guarded route (express serves it the same): the record names the pattern.
    const unauth = await fetch(`${gw.gateway.url}/V1/Chat/Completions/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unauth.status).toBe(401);
    expect(all().at(-1)).toMatchObject({ kind: 'unauthenticated', request_id: unauth.headers.get('x-request-id'), route: '/v1/chat/completions' });
  });
});

describe('a policy_unavailable still gets its 503 when the audit log cannot take the record', () => {
  const KEY = 'sk-sg-ghost-audit-down-key-0123456789';
  let engine: DevEngine;
  let gateway: RunningGateway;
  const attempted: Json[] = [];
  beforeAll(async () => {
    engine = await startDevEngine();
    const broken = {
      append: async (entry: Json) => {
        attempted.push(entry);
        throw new Error('ENOSPC: no space left on device, write');
      },
    } as unknown as AuditLog;
    const config = GatewayConfig.parse({ port: 0, policy: FIXTURE_POLICY, engine: { url: engine.baseUrl }, keys: { inline: [{ app: 'ghost-app', hash: hashApiKey(KEY), policy: GHOST_POLICY }] } });
    gateway = await startGateway({ config, recorder: new AuditRecorder(broken, undefined, 'salt') });
  });
  afterAll(async () => {
    await gateway?.shutdown(1000);
    await engine?.close();
  });

  test('503 policy_unavailable goes out as usual; the record was attempted first', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const err = (await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: SECRET }] }).catch((e: unknown) => e)) as InternalServerError;
    expect(err).toBeInstanceOf(InternalServerError);
    expect([err.status, err.code]).toEqual([503, 'policy_unavailable']);
    expect(attempted).toEqual([expect.objectContaining({ kind: 'policy_unavailable', policy_id: GHOST_POLICY, request_id: err.headers!.get('x-request-id') })]);
  });
});

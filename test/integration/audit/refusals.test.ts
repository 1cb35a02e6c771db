import { auditLines } from '../../../gateway/audit/auditFiles';
import { readAllEntries, readEntries } from '../../../gateway/audit/auditQuery';
import { verifyChain } from '../../../gateway/audit/chainVerifier';
import { runAudit } from '../../../gateway/cli/auditCommand';
import { shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { addKey, tempKeysFile } from '../../support/keys';
import { startRealGateway, type RealGateway } from '../telemetry/realGateway';

/**
 * Refusals are decisions: every 401 and 429 leaves its own audit record (kind unauthenticated /
 * rate_limited) and counts in metrics; GET /metrics needs the metrics key once API keys are on; the
 * gateway issues its own request ids and keeps a client's id as a separate field.
 */
const METRICS_KEY = 'metrics-scraper-key-0123456789';

describe('401s, 429s and request ids in the real audit log; /metrics behind a key', () => {
  let gw: RealGateway;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    const file = tempKeysFile();
    keys.shop = await addKey(file, 'shop', ['--rpm', '1']);
    keys.tools = await addKey(file, 'tools');
    gw = await startRealGateway({ config: { keys: { file }, metrics: { api_key: METRICS_KEY } } });
  });
  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
  });

  const chat = (headers: Record<string, string>) =>
    fetch(`${gw.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }) });
  const all = () => readAllEntries(gw.auditDir).entries;

  test('a 401 (no key, unknown key) is audited as unauthenticated, with its reason and the gateway id', async () => {
    const missing = await chat({});
    const wrong = await chat({ authorization: 'Bearer sk-sg-not-a-real-key-AAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect([missing.status, wrong.status]).toEqual([401, 401]);
    const entries = all().slice(-2);
    expect(entries).toEqual([
      expect.objectContaining({ kind: 'unauthenticated', status: 401, reason: 'missing_key', request_id: missing.headers.get('x-request-id'), route: '/v1/chat/completions', method: 'POST' }),
      expect.objectContaining({ kind: 'unauthenticated', status: 401, reason: 'invalid_key', request_id: wrong.headers.get('x-request-id') }),
    ]);
    expect(entries[1]).not.toHaveProperty('app');
    const log = [...auditLines(gw.auditDir)].map((l) => l.text).join('\n');
    expect(log).not.toContain('not-a-real-key');
  });

  test('a 429 is audited as rate_limited, with app, key id, reason and limit', async () => {
    expect((await chat({ authorization: `Bearer ${keys.shop}` })).status).toBe(200);
    const refused = await chat({ authorization: `Bearer ${keys.shop}`, 'x-request-id': 'shop-retry-1' });
    expect(refused.status).toBe(429);
    expect(all().at(-1)).toEqual(
      expect.objectContaining({
        kind: 'rate_limited',
        status: 429,
        app: 'shop',
        key_id: expect.stringMatching(/^key_/),
        reason: 'requests_per_minute',
        limit: { kind: 'requests', limit: 1, requested: 1 },
        request_id: refused.headers.get('x-request-id'),
        client_request_id: 'shop-retry-1',
      }),
    );
  });

  test("two apps sending the same x-request-id get distinct gateway ids; the client's is a labelled field", async () => {
    const a = await chat({ authorization: `Bearer ${keys.tools}`, 'x-request-id': 'dup-1' });
    const b = await chat({ authorization: `Bearer ${keys.tools}`, 'x-request-id': 'dup-1' });
    expect([a.status, b.status]).toEqual([200, 200]);
    const ids = [a.headers.get('x-request-id'), b.headers.get('x-request-id')];
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids).not.toContain('dup-1');
    const decisions = readEntries(gw.auditDir).entries.slice(-2);
    expect(decisions.map((d) => [d.request_id, d.client_request_id])).toEqual([
      [ids[0], 'dup-1'],
      [ids[1], 'dup-1'],
    ]);
  });

  test('GET /metrics: 401 without the metrics key (an app key is not enough), audited; nothing leaks', async () => {
    const anonymous = await fetch(`${gw.gateway.url}/metrics`);
    const withAppKey = await fetch(`${gw.gateway.url}/metrics`, { headers: { authorization: `Bearer ${keys.tools}` } });
    const told: string[] = [];
    for (const res of [anonymous, withAppKey]) {
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe('invalid_api_key');
      expect(text).not.toMatch(/shop|tools|safety_|127\.0\.0\.1/);
      told.push(JSON.parse(text).error.message);
    }
    // A scraper is told which key /metrics takes; an app's key is not called wrong, only the wrong kind.
    expect(told[0]).toContain('needs the metrics key');
    expect(told[1]).toContain('not the metrics key');
    expect(all().slice(-2).map((e) => [e.kind, e.route, 'reason' in e ? e.reason : undefined])).toEqual([
      ['unauthenticated', '/metrics', 'missing_key'],
      ['unauthenticated', '/metrics', 'invalid_key'],
    ]);
  });

  test('GET /metrics with the metrics key: 429s counted by app and reason, 401s by reason', async () => {
    const res = await fetch(`${gw.gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^safety_rate_limit_rejections_total\{(?=.*safety_app="shop")(?=.*safety_rate_limit_kind="requests")(?=.*safety_rejection_reason="requests_per_minute").*\} 1$/m);
    expect(text).toMatch(/^safety_auth_rejections_total\{(?=.*safety_rejection_reason="invalid_key").*\} 2$/m);
    expect(text).toMatch(/^safety_auth_rejections_total\{(?=.*safety_rejection_reason="missing_key").*\} 2$/m);
  });

  test('the chain holds decisions and refusals alike; the audit CLI queries and counts the new kinds', async () => {
    expect(verifyChain(auditLines(gw.auditDir))).toMatchObject({ ok: true, records: all().length });
    let out = '';
    const io = { out: (t: string) => (out += t), err: () => undefined, env: {} };
    expect(await runAudit(['query', '--dir', gw.auditDir, '--kind', 'rate_limited', '--format', 'jsonl'], io)).toBe(0);
    expect(out.trim().split('\n').map((l) => JSON.parse(l).app)).toEqual(['shop']);
    out = '';
    expect(await runAudit(['stats', '--dir', gw.auditDir, '--format', 'jsonl'], io)).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ byKind: { decision: 3, unauthenticated: 4, rate_limited: 1 }, byReason: { 'rate_limited:requests_per_minute': 1, 'unauthenticated:missing_key': 2 } });
    out = '';
    expect(await runAudit(['query', '--dir', gw.auditDir, '--action', 'error'], io)).toBe(0);
    expect(await runAudit(['query', '--dir', gw.auditDir, '--kind', 'nonsense'], io)).toBe(2);
  });

  test('the log never holds a presented key', () => {
    const log = [...auditLines(gw.auditDir)].map((l) => l.text).join('\n');
    for (const key of [...Object.values(keys), METRICS_KEY]) expect(log).not.toContain(key);
  });
});

describe('GET /metrics on a separate loopback port', () => {
  let gw: RealGateway;
  beforeAll(async () => {
    const file = tempKeysFile();
    await addKey(file, 'shop');
    gw = await startRealGateway({ config: { keys: { file }, metrics: { port: 0 } } });
  });
  afterAll(async () => gw?.close());

  test('served there (open on loopback), and not on the gateway port', async () => {
    expect(gw.gateway.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const there = await fetch(`${gw.gateway.metricsUrl}/metrics`);
    expect(there.status).toBe(200);
    expect(await there.text()).toContain('# ');
    const main = await fetch(`${gw.gateway.url}/metrics`);
    expect(main.status).toBe(404);
    expect((await fetch(`${gw.gateway.metricsUrl}/v1/chat/completions`)).status).toBe(404);
  });
});

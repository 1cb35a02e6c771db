import { readAllEntries } from '../../../gateway/audit/auditQuery';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway } from '../../../gateway/server';
import { shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { FIXTURE_POLICY } from '../../support/gatewayHarness';
import { addKey, tempKeysFile } from '../../support/keys';
import { startRealGateway, type RealGateway } from '../telemetry/realGateway';

/** The gateway serving the review page at /review (review.enabled) over its own audit log. */
const ADMIN = 'gateway-review-admin-key-0123456789';

describe('/review on the gateway', () => {
  let gw: RealGateway;
  let appKey: string;

  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    const file = tempKeysFile();
    appKey = await addKey(file, 'shop');
    gw = await startRealGateway({ config: { keys: { file }, review: { enabled: true, admin_key: ADMIN } } });
  });
  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
  });

  test('a decision the gateway just made is on the page, with its app and key id; app keys do not open it', async () => {
    const res = await fetch(`${gw.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${appKey}` },
      body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello there' }] }),
    });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id')!;
    expect((await fetch(`${gw.gateway.url}/review/`, { headers: { authorization: `Bearer ${appKey}` } })).status).toBe(401);
    const page = await fetch(`${gw.gateway.url}/review/?request_id=${requestId}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain(requestId);
    expect(text).toMatch(/<td>shop<\/td><td class="mono">key_[A-Za-z0-9]+<\/td>/);
    expect(text).not.toContain('hello there');
  });

  test('a missing or wrong admin key is a 401 audited as unauthenticated, like the API\'s; the key tried is not kept', async () => {
    const missing = await fetch(`${gw.gateway.url}/review/`);
    const wrong = await fetch(`${gw.gateway.url}/review/export.jsonl`, { headers: { authorization: `Basic ${Buffer.from('x:guess-number-one').toString('base64')}` } });
    expect([missing.status, wrong.status]).toEqual([401, 401]);
    // Refused before any guard ran: `none`, as README's "every answer" row says, never `allow`.
    expect([missing.headers.get('x-safety-verdict'), wrong.headers.get('x-safety-verdict')]).toEqual(['none', 'none']);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(await wrong.text()).toContain('Admin key required');
    const refusals = readAllEntries(gw.auditDir).entries.filter((e) => e.kind === 'unauthenticated' && e.route.startsWith('/review')).slice(-2);
    expect(refusals.map((e) => [e.route, e.status, (e as { reason?: string }).reason, e.request_id])).toEqual([
      ['/review/', 401, 'missing_key', missing.headers.get('x-request-id')],
      ['/review/export.jsonl', 401, 'invalid_key', wrong.headers.get('x-request-id')],
    ]);
    expect(JSON.stringify(readAllEntries(gw.auditDir).entries)).not.toContain('guess-number-one');
  });
});

describe('review.enabled without an admin key', () => {
  test('a gateway listening beyond loopback refuses to start, saying why', async () => {
    const file = tempKeysFile();
    await addKey(file, 'shop');
    const config = GatewayConfig.parse({ port: 0, host: '0.0.0.0', policy: FIXTURE_POLICY, engine: { url: 'http://127.0.0.1:9/v1' }, keys: { file }, review: { enabled: true } });
    await expect(startGateway({ config, recorder: { record: async () => undefined } })).rejects.toThrow(/review\.enabled needs review\.admin_key/);
  });

  test('a gateway on loopback that trusts a proxy refuses to start too: behind the proxy every client looks local', async () => {
    const file = tempKeysFile();
    await addKey(file, 'shop');
    const config = GatewayConfig.parse({ port: 0, host: '127.0.0.1', trust_proxy: true, policy: FIXTURE_POLICY, engine: { url: 'http://127.0.0.1:9/v1' }, keys: { file }, review: { enabled: true } });
    await expect(startGateway({ config, recorder: { record: async () => undefined } })).rejects.toThrow(/when trust_proxy is set/);
  });
});

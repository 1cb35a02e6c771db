import { auditLines } from '../../../gateway/audit/auditFiles';
import { readAllEntries } from '../../../gateway/audit/auditQuery';
import { verifyChain } from '../../../gateway/audit/chainVerifier';
import { runAudit } from '../../../gateway/cli/auditCommand';
import { shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { addKey, tempKeysFile } from '../../support/keys';
import { startRealGateway, type RealGateway } from '../telemetry/realGateway';

/**
 * A client trying keys (or an app looping on 429s) must not fill the audit disk: past
 * `audit.refusals`' bounds its refusals are counted into one summary record per source, kind,
 * status and reason, written when the window ends or the gateway stops. Every refusal is still
 * answered at once, and every one is counted in the log.
 */
const BAD_KEY = 'Bearer sk-sg-not-a-real-key-AAAAAAAAAAAAAAAAAAAAAAAAAAA';

async function chat(gw: RealGateway, authorization?: string): Promise<{ status: number; id: string }> {
  const res = await fetch(`${gw.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }),
  });
  await res.arrayBuffer();
  return { status: res.status, id: res.headers.get('x-request-id')! };
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function auditCli(args: string[]): Promise<string> {
  let out = '';
  const code = await runAudit(args, { out: (s: string) => void (out += s), err: (s: string) => void (out += s), env: {} });
  expect(code).toBe(0);
  return out;
}

describe('a refusal flood is bounded in the audit log and still counted', () => {
  let keysFile: string;
  let shopKey: string;

  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    keysFile = tempKeysFile();
    shopKey = await addKey(keysFile, 'shop', ['--rpm', '1']);
  });
  afterAll(() => shutdownTelemetry());

  test('wrong keys past the per-source bound: answered 401 at once, one summary record when the window ends', async () => {
    const gw = await startRealGateway({ config: { keys: { file: keysFile }, audit: { refusals: { per_source: 3, total: 100, window_s: 1 } } } });
    try {
      const answers = [];
      for (let i = 0; i < 12; i++) answers.push(await chat(gw, BAD_KEY));
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(401));
      const summary = await waitFor(() => readAllEntries(gw.auditDir).entries.find((e) => e.kind === 'unauthenticated' && e.repeats), 'the summary record');
      const refusals = readAllEntries(gw.auditDir).entries.filter((e) => e.kind === 'unauthenticated');
      // Three recorded one by one, then one line for the other nine, naming the first and the last of them.
      expect(refusals.map((e) => e.request_id)).toEqual([...answers.slice(0, 4).map((a) => a.id)]);
      expect(summary).toEqual(expect.objectContaining({ reason: 'invalid_key', status: 401, client: expect.any(String), route: '/v1/chat/completions' }));
      expect((summary as { repeats?: unknown }).repeats).toEqual({ count: 9, last_at: expect.any(String), last_request_id: answers[11].id });
      expect(JSON.stringify(refusals)).not.toContain('not-a-real-key');

      const stats = await auditCli(['stats', '--dir', gw.auditDir, '--kind', 'unauthenticated']);
      expect(stats).toMatch(/^4 records .*; 1 of them summarize a flood of 9 refusals/);
      expect(stats).toMatch(/unauthenticated\s+12\b/);
      expect(await auditCli(['query', '--dir', gw.auditDir, '--kind', 'unauthenticated'])).toContain('invalid_key x9 (summary until');
      expect(verifyChain(auditLines(gw.auditDir)).ok).toBe(true);
    } finally {
      await gw.close();
    }
  });

  test('the total bound reaches keyed 429s too; an open window is written out when the gateway stops', async () => {
    const gw = await startRealGateway({ config: { keys: { file: keysFile }, audit: { refusals: { per_source: 20, total: 3, window_s: 3600 } } } });
    let closed = false;
    try {
      expect((await chat(gw, `Bearer ${shopKey}`)).status).toBe(200);
      const unauth = [await chat(gw), await chat(gw)];
      const limited = [];
      for (let i = 0; i < 5; i++) limited.push(await chat(gw, `Bearer ${shopKey}`));
      expect([...unauth, ...limited].map((a) => a.status)).toEqual([401, 401, 429, 429, 429, 429, 429]);
      // Within the hour-long window: the first three refusals are in the log, nothing else yet.
      const before = readAllEntries(gw.auditDir).entries.filter((e) => e.kind !== 'decision');
      expect(before.map((e) => e.request_id)).toEqual([unauth[0].id, unauth[1].id, limited[0].id]);
      await gw.close();
      closed = true;
      const after = readAllEntries(gw.auditDir).entries.filter((e) => e.kind === 'rate_limited');
      expect(after.at(-1)).toEqual(
        expect.objectContaining({ app: 'shop', key_id: expect.stringMatching(/^key_/), reason: 'requests_per_minute', request_id: limited[1].id, repeats: { count: 4, last_at: expect.any(String), last_request_id: limited[4].id } }),
      );
      // The summary went in before the shutdown checkpoint (none here: no signing key) and the chain holds.
      expect(verifyChain(auditLines(gw.auditDir)).ok).toBe(true);
    } finally {
      if (!closed) await gw.close();
    }
  });
});

import { hashApiKey } from '../../gateway/access/auth/apiKey';
import { TextTokenizer } from '../../guards/tokenizer/textTokenizer';
import type { RequestRecord } from '../../gateway/record/requestRecord';
import { startHarness, type Harness } from '../support/gatewayHarness';

/**
 * The verdict cache is kept per app (a tenant hunt): shared across apps, a hit (a faster answer,
 * `x-guard-duration-ms`, 2-4 ms against 30-60 ms) told app beta whether app alpha had sent a
 * text, a pasted contract or another app's system prompt.
 */
const KEYS = { alpha: 'sk-sg-alpha-app-key-0123456789', beta: 'sk-sg-beta-app-key-01234567890', alpha2: 'sk-sg-alpha-second-key-012345' };
const TEXT = 'Confidential memo 7f3a: the quarterly revenue forecast for our northern region shows steady growth across retail and wholesale channels.';

describe('verdicts reused within one app only', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { keys: { inline: [{ app: 'alpha', hash: hashApiKey(KEYS.alpha) }, { app: 'beta', hash: hashApiKey(KEYS.beta) }, { app: 'alpha', hash: hashApiKey(KEYS.alpha2) }] } } });
  });
  afterAll(async () => h.close());

  const chat = async (key: string, content: string): Promise<RequestRecord> => {
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content }] }) });
    expect(res.status).toBe(200);
    await res.text();
    return h.recorder.records.at(-1)!;
  };
  const hits = (record: RequestRecord) => (record.input?.verdicts ?? []).reduce((n, v) => n + (v.verdict.cacheHits?.texts ?? 0), 0);

  test("another app's request for the same text is scanned afresh; the same app's next one is answered from the cache", async () => {
    expect(hits(await chat(KEYS.alpha, TEXT))).toBe(0);
    const beta = await chat(KEYS.beta, TEXT);
    expect(beta.app).toBe('beta');
    expect(hits(beta)).toBe(0);
    expect(hits(await chat(KEYS.alpha, TEXT))).toBeGreaterThan(0);
  });

  // Keys are tenants (as for the Responses memory): a second key of the same app learned from a hit
  // whether the first had sent a text (a cache hunt).
  test("another key of the same app is scanned afresh too; the key's own next request is answered from the cache", async () => {
    const text = TEXT.replace('7f3a', '7f3b');
    expect(hits(await chat(KEYS.alpha, text))).toBe(0);
    const second = await chat(KEYS.alpha2, text);
    expect(second.app).toBe('alpha');
    expect(hits(second)).toBe(0);
    expect(hits(await chat(KEYS.alpha2, text))).toBeGreaterThan(0);
  });

  test("another app's request tokenizes the text afresh too (a tokenization left by the first app made the second's check faster: a review of f0e6592)", async () => {
    const spy = jest.spyOn(TextTokenizer.prototype, 'encodeIds');
    try {
      const text = TEXT.replace('7f3a', '7f3c');
      await chat(KEYS.alpha, text);
      const alpha = spy.mock.calls.filter(([t]) => t.includes('7f3c')).length;
      spy.mockClear();
      await chat(KEYS.beta, text);
      expect(spy.mock.calls.filter(([t]) => t.includes('7f3c')).length).toBe(alpha);
    } finally {
      spy.mockRestore();
    }
  });
});

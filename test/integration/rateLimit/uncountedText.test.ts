import { startHarness, type Harness } from '../../support/gatewayHarness';
import { addKey, tempKeysFile } from '../../support/keys';

/**
 * The token budget and the context check pay for every text the guards read, not only the
 * members the engine's template renders: 200 KB of prose in a member the gateway does not know
 * (read by the guards, `request_fields.unknown: scanned`) was charged about 40 tokens and held
 * both cores for 15-24 s of guard time per request, under a budget of 10,000 tokens a minute.
 */
describe('text the guards read counts toward the token budget', () => {
  let h: Harness;
  let key: string;
  const prose = 'The city library opened a new reading room last spring, with long oak tables. '.repeat(2_600);
  const post = (message: Record<string, unknown>) =>
    fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'dev', max_tokens: 8, messages: [{ role: 'user', content: 'hello', ...message }] }),
    });

  beforeAll(async () => {
    const file = tempKeysFile();
    key = await addKey(file, 'tpm-app', ['--tpm', '10000']);
    h = await startHarness({ config: { keys: { file } } });
  });
  afterAll(async () => h.close());

  test('200 KB in an unknown message member is refused as over the budget, as the same text as content is, before any guard reads it', async () => {
    expect(prose.length).toBeGreaterThan(200_000);
    for (const message of [{ content: prose }, { notes: prose }, { content: [{ type: 'text', text: 'hello', note: prose }] }]) {
      const res = await post(message);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('x-guard-duration-ms') ?? 0)).toBe(0);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    }
    // A small unknown member still passes, charged for what it holds.
    const small = await post({ notes: 'see attached' });
    expect(small.status).toBe(200);
    await small.arrayBuffer();
  });
});

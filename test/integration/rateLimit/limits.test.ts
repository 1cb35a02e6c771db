import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixturePolicyVariant } from '../../support/policyFiles';
import { readSse, startHarness, type Harness } from '../../support/gatewayHarness';
import { addKey, eventually, keysCli, tempKeysFile } from '../../support/keys';
import { countTokensSync } from '../../../gateway/access/tokens/llama3Tokens';

type Json = Record<string, any>;
const post = (h: Harness, key: string | undefined, body: Json, headers: Record<string, string> = {}) =>
  fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello there' }], ...body }),
  });
const num = (res: Response, name: string) => Number(res.headers.get(name));

describe('rate limits per key (memory store)', () => {
  let h: Harness;
  let file: string;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    file = tempKeysFile();
    keys.rpm = await addKey(file, 'rpm-app', ['--rpm', '3']);
    keys.tpm = await addKey(file, 'tpm-app', ['--tpm', '2000']);
    keys.stream = await addKey(file, 'stream-app', ['--tpm', '5000']);
    keys.conc = await addKey(file, 'conc-app', ['--concurrency', '1']);
    keys.none = await addKey(file, 'free-app');
    h = await startHarness({ config: { keys: { file }, limits: { context_tokens_by_model: { 'tiny-model': 64 } } } });
  });
  afterAll(async () => h.close());

  test("requests per minute: OpenAI's headers count down, then 429 with Retry-After", async () => {
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(h, keys.rpm, {});
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3');
      expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?(\d+ms|\d+(\.\d+)?s)$/);
      seen.push(num(res, 'x-ratelimit-remaining-requests'));
      await res.arrayBuffer();
    }
    expect(seen).toEqual([2, 1, 0]);
    const refused = await post(h, keys.rpm, {});
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(await refused.json()).toEqual({ error: { message: expect.stringContaining('requests per minute'), type: 'requests', param: null, code: 'rate_limit_exceeded' } });
    // Another key is not affected; a key without limits gets no limit headers.
    const other = await post(h, keys.none, {});
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  test("tokens: prompt + max_tokens reserved up front, the rest refunded from the engine's usage", async () => {
    const first = await post(h, keys.tpm, { max_tokens: 500 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('2000');
    const reserved1 = 2000 - num(first, 'x-ratelimit-remaining-tokens');
    expect(reserved1).toBeGreaterThan(500);
    const used1 = ((await first.json()) as Json).usage.total_tokens as number;
    expect(used1).toBeLessThan(reserved1);

    const second = await post(h, keys.tpm, { max_tokens: 500 });
    expect(second.status).toBe(200);
    const reserved2 = 2000 - used1 - num(second, 'x-ratelimit-remaining-tokens');
    expect(reserved2).toBe(reserved1); // the first request only cost its usage
    await second.arrayBuffer();
  });

  test('tokens: a reservation over what is left is a 429 of type tokens; one over the whole limit says so', async () => {
    // Fits the 2,000-token limit (prompt + 1,960) but not what the two answers above left of it.
    const tooMuchNow = await post(h, keys.tpm, { max_tokens: 1960 });
    expect(tooMuchNow.status).toBe(429);
    expect(tooMuchNow.headers.get('retry-after')).toBeTruthy();
    expect(tooMuchNow.headers.get('x-should-retry')).toBeNull();
    const body = (await tooMuchNow.json()) as Json;
    expect(body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    const never = await post(h, keys.tpm, { max_tokens: 5000 });
    expect(never.status).toBe(429);
    // It never fits: no wait is offered, and the openai SDKs are told not to retry it (they would wait out retry-after twice).
    expect(never.headers.get('retry-after')).toBeNull();
    expect(never.headers.get('x-should-retry')).toBe('false');
    expect(((await never.json()) as Json).error.message).toMatch(/Request too large for tokens per minute/);
    // Refused reservations were not kept: a small request still fits.
    expect((await post(h, keys.tpm, { max_tokens: 10 })).status).toBe(200);
    // 128 answers of 4,096 default tokens each: refused as too large before the count is touched
    const many = await post(h, keys.tpm, { n: 128 });
    expect(many.status).toBe(429);
    expect(((await many.json()) as Json).error.message).toMatch(/Request too large for tokens per minute/);
    expect((await post(h, keys.tpm, { max_tokens: 10 })).status).toBe(200);
  });

  test('a stream without a usage block is settled from the answer counted with the Llama 3 tokenizer', async () => {
    const reply = 'one two three four five six seven eight nine ten';
    await h.script({ reply });
    const first = await post(h, keys.stream, { stream: true, max_tokens: 1000 });
    const reserved = 5000 - num(first, 'x-ratelimit-remaining-tokens');
    const events = await readSse(first);
    expect(events[events.length - 1]).toBe('[DONE]');
    const prompt = reserved - 1000;
    const second = await post(h, keys.stream, { max_tokens: 1000 });
    expect(5000 - num(second, 'x-ratelimit-remaining-tokens') - reserved).toBe(prompt + countTokensSync(reply));
    await second.arrayBuffer();
  });

  test('a streamed tool call without a usage block is charged for its arguments too', async () => {
    const args = JSON.stringify({ text: 'word '.repeat(120).trim() });
    await h.script({ tool_calls: [{ name: 'post', arguments: args }] });
    const first = await post(h, keys.stream, { stream: true, max_tokens: 1000 });
    const usedWithFirst = 5000 - num(first, 'x-ratelimit-remaining-tokens'); // earlier use + the first's reservation
    await readSse(first);
    await new Promise((r) => setTimeout(r, 200)); // the settlement counts the answer's tokens after the response ended
    const second = await post(h, keys.stream, { max_tokens: 1000 });
    // the second reserves what the first did (same prompt, same max_tokens): what is left over is the first's cost
    const firstCost = 5000 - num(second, 'x-ratelimit-remaining-tokens') - usedWithFirst;
    await second.arrayBuffer();
    // without the arguments the first would have cost its prompt alone (under 40 tokens here)
    expect(firstCost).toBeGreaterThanOrEqual(countTokensSync(`post(${args})`));
  });

  test('concurrent requests: a second one while the first streams is a 429; the slot comes back after', async () => {
    await h.script({ reply: 'slow answer '.repeat(10), token_delay_ms: 30 });
    const before = h.engine.stats.requests;
    const first = post(h, keys.conc, { stream: true });
    await eventually(async () => h.engine.stats.requests > before, 'the first request reached the engine');
    const second = await post(h, keys.conc, {});
    expect(second.status).toBe(429);
    expect(((await second.json()) as Json).error.message).toMatch(/concurrent/);
    const firstRes = await first;
    expect(firstRes.status).toBe(200);
    await readSse(firstRes);
    const third = await post(h, keys.conc, {});
    expect(third.status).toBe(200);
    await third.arrayBuffer();
  });

  test('context length is checked before the engine: 400 context_length_exceeded, engine not called', async () => {
    const before = h.engine.stats.requests;
    const res = await post(h, keys.none, { model: 'tiny-model', messages: [{ role: 'user', content: 'word '.repeat(100) }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: expect.stringMatching(/maximum context length is 64 tokens/), type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
    const withCompletion = await post(h, keys.none, { model: 'tiny-model', max_tokens: 60, messages: [{ role: 'user', content: 'hi' }] });
    expect(withCompletion.status).toBe(400);
    expect(((await withCompletion.json()) as Json).error.message).toMatch(/in the completion/);
    expect(h.engine.stats.requests).toBe(before);
    expect((await post(h, keys.none, { model: 'tiny-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
  });

  test('keys list shows limits and never a hash or key', async () => {
    const { out } = await keysCli(['list', '--file', file]);
    expect(out).toMatch(/rpm-app .*rpm=3/);
    expect(out).not.toMatch(/sha256:/);
    for (const key of Object.values(keys)) expect(out).not.toContain(key);
  });
});

describe('rate limits without keys: per client address, trust proxy', () => {
  const spoof = (h: Harness, ip: string) => post(h, undefined, {}, { 'x-forwarded-for': ip });

  test('without trust_proxy, X-Forwarded-For is ignored: every request is the socket address', async () => {
    const h = await startHarness({ config: { rate_limits: { defaults: { requests_per_minute: 2 } } } });
    try {
      expect((await spoof(h, '10.0.0.1')).status).toBe(200);
      expect((await spoof(h, '10.0.0.2')).status).toBe(200);
      expect((await spoof(h, '10.0.0.3')).status).toBe(429);
    } finally {
      await h.close();
    }
  });

  test('with trust_proxy loopback, each forwarded client has its own limit', async () => {
    const h = await startHarness({ config: { trust_proxy: 'loopback', rate_limits: { defaults: { requests_per_minute: 2 } } } });
    try {
      expect((await spoof(h, '10.0.0.1')).status).toBe(200);
      expect((await spoof(h, '10.0.0.1')).status).toBe(200);
      expect((await spoof(h, '10.0.0.1')).status).toBe(429);
      expect((await spoof(h, '10.0.0.2')).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('a client that leaves mid-stream (window mode: text reaches it as it is checked)', () => {
  let h: Harness;
  let key: string;
  beforeAll(async () => {
    const file = tempKeysFile();
    key = await addKey(file, 'leaver-app', ['--tpm', '5000']);
    const policy = fixturePolicyVariant((y) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: window\n  window_tokens: 4\n  overlap_tokens: 1'));
    h = await startHarness({ policy, config: { keys: { file } } });
  });
  afterAll(async () => h.close());

  test('keeps its whole reservation: reading most of an answer and closing is no refund', async () => {
    await h.script({ reply: 'slow answer '.repeat(40), token_delay_ms: 20 });
    const first = await post(h, key, { stream: true, max_tokens: 1000 });
    const reserved = 5000 - num(first, 'x-ratelimit-remaining-tokens');
    const reader = first.body!.getReader();
    await reader.read(); // checked text arrived while the engine still generates
    await reader.cancel();
    await new Promise((r) => setTimeout(r, 300));
    const second = await post(h, key, { max_tokens: 10 });
    expect(5000 - num(second, 'x-ratelimit-remaining-tokens')).toBeGreaterThanOrEqual(reserved + 10);
    await second.arrayBuffer();
  });
  /** What the key was charged for `first` (reserved up front as prompt + 1000), read from the next request's headers. */
  async function chargedFor(first: Response, reserved: number, before: number): Promise<number> {
    await first.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    const next = await post(h, key, { max_tokens: 10 });
    const prompt = reserved - 1000;
    const charged = before - num(next, 'x-ratelimit-remaining-tokens') - (prompt + 10);
    await next.arrayBuffer();
    return charged;
  }

  test('an answer blocked mid-stream is charged the text the engine generated, not only its prompt', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // let the earlier reservation settle
    const remaining = num(await post(h, key, { max_tokens: 1 }), 'x-ratelimit-remaining-tokens');
    await h.script({ reply: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 zzs1 w11 w12 w13 w14 w15 w16' });
    const first = await post(h, key, { stream: true, max_tokens: 1000 });
    const before = num(first, 'x-ratelimit-remaining-tokens');
    const reserved = remaining - before;
    const prompt = reserved - 1000;
    const charged = await chargedFor(first, reserved, before + reserved);
    // The windows the client read (w1..w8) at least; before the fix the block refunded all but the prompt.
    expect(charged).toBeGreaterThanOrEqual(prompt + countTokensSync('w1 w2 w3 w4 w5 w6 w7 w8'));
    expect(charged).toBeLessThan(reserved);
  });

  test('a stream that fails after it opened keeps its whole reservation', async () => {
    await h.script({ reply: 'part '.repeat(30), drop_after_chunks: 10 });
    const first = await post(h, key, { stream: true, max_tokens: 1000 });
    expect(first.status).toBe(200);
    const remainingBefore = num(first, 'x-ratelimit-remaining-tokens');
    const events = await readSse(first);
    expect(events.join('\n')).toContain('part');
    expect(events.at(-1)).toBe('[DONE]');
    const next = await post(h, key, { max_tokens: 10 });
    // Nothing was given back: the next request's reservation comes off what was left after the first's.
    expect(remainingBefore - num(next, 'x-ratelimit-remaining-tokens')).toBeGreaterThanOrEqual(10);
    await next.arrayBuffer();
  });
});

describe('Responses continuations: the history previous_response_id names is counted before the engine', () => {
  let h: Harness;
  let key: string;
  beforeAll(async () => {
    const file = tempKeysFile();
    key = await addKey(file, 'history-app', ['--tpm', '20000']);
    h = await startHarness({ config: { keys: { file }, limits: { context_tokens_by_model: { 'short-model': 600 } } } });
  });
  afterAll(async () => h.close());

  const respond = (body: Json) =>
    fetch(`${h.gateway.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });

  test('its tokens are reserved up front, and a history past the context window is a 400 before the engine', async () => {
    const history = 'The committee reviewed the quarterly figures in detail. '.repeat(60);
    const historyTokens = countTokensSync(history);
    await h.script({ reply: 'Noted.' });
    const first = await respond({ model: 'dev', input: history, max_output_tokens: 50 });
    expect(first.status).toBe(200);
    const firstId = ((await first.json()) as Json).id as string;

    await h.script({ reply: 'Done.' });
    const before = num(await respond({ model: 'dev', input: 'hi', max_output_tokens: 1 }), 'x-ratelimit-remaining-tokens');
    const next = await respond({ model: 'dev', input: 'go on', previous_response_id: firstId, max_output_tokens: 10 });
    expect(next.status).toBe(200);
    // Reserved: the history's tokens as well as the new turn's (before: only "go on" and 10).
    expect(historyTokens).toBeGreaterThan(500);
    expect(before - num(next, 'x-ratelimit-remaining-tokens')).toBeGreaterThan(historyTokens);
    await next.arrayBuffer();

    const engineCalls = h.engine.requests.length;
    const tooLong = await respond({ model: 'short-model', input: 'and again', previous_response_id: firstId, max_output_tokens: 10 });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as Json).error).toMatchObject({ code: 'context_length_exceeded' });
    expect(h.engine.requests.length).toBe(engineCalls);
  });
});

describe('a token budget limits the answers of a request that sets no limit', () => {
  // An engine on loopback that records what it is sent and answers briefly.
  const sent: Json[] = [];
  const engine = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      // The gateway's health check (GET /models at start and for /readyz), as an engine answers it.
      if (req.method === 'GET') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'dev', object: 'model' }] }));
      sent.push(JSON.parse(raw) as Json);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'dev', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } }));
    });
  });
  let h: Harness;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    await new Promise<void>((r) => engine.listen(0, '127.0.0.1', () => r()));
    const file = tempKeysFile();
    keys.tpm = await addKey(file, 'budgeted', ['--tpm', '100000']);
    keys.none = await addKey(file, 'unbudgeted');
    h = await startHarness({ engineUrl: `http://127.0.0.1:${(engine.address() as AddressInfo).port}/v1`, config: { keys: { file }, rate_limits: { default_max_tokens: 300 }, limits: { context_tokens_by_model: { 'small-window': 320 } } } });
  });
  afterAll(async () => {
    await h.close();
    engine.closeAllConnections();
    await new Promise<void>((r) => engine.close(() => r()));
  });

  test('no max_tokens (or null) under a tokens-per-minute limit: the engine is sent the reserved 300', async () => {
    for (const body of [{}, { max_tokens: null }, { max_completion_tokens: null }]) {
      const res = await post(h, keys.tpm, body);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(sent.at(-1)).toMatchObject({ max_tokens: 300 });
    }
  });

  test('a prompt that leaves less room in the context window than 300 is sent what is left: prompt + max_tokens never exceeds the window', async () => {
    const prompt = 'word '.repeat(150).trim();
    const res = await post(h, keys.tpm, { model: 'small-window', messages: [{ role: 'user', content: prompt }] });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const cap = sent.at(-1)!.max_tokens as number;
    expect(cap).toBeGreaterThan(0);
    expect(cap).toBeLessThan(320 - 150);
  });

  test("the client's own limit is sent, in max_tokens too (TGI and Ollama read only that one), and a key without a token budget gets none added", async () => {
    await (await post(h, keys.tpm, { max_tokens: 7 })).arrayBuffer();
    expect(sent.at(-1)).toMatchObject({ max_tokens: 7 });
    await (await post(h, keys.tpm, { max_completion_tokens: 9 })).arrayBuffer();
    expect(sent.at(-1)).toMatchObject({ max_completion_tokens: 9, max_tokens: 9 });
    // The reservation is max_completion_tokens (what OpenAI and vLLM read first): a larger max_tokens beside it is held to it.
    await (await post(h, keys.tpm, { max_completion_tokens: 1, max_tokens: 100000 })).arrayBuffer();
    expect(sent.at(-1)).toMatchObject({ max_completion_tokens: 1, max_tokens: 1 });
    await (await post(h, keys.none, {})).arrayBuffer();
    expect(sent.at(-1)).not.toHaveProperty('max_tokens');
    await (await post(h, keys.none, { max_completion_tokens: 9 })).arrayBuffer();
    expect(sent.at(-1)).not.toHaveProperty('max_tokens');
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixturePolicyVariant } from '../../support/policyFiles';
import { readSse, startHarness, type Harness } from '../../support/gatewayHarness';

/**
 * Streams with more than one answer in window mode (the default). A text completion with a list
 * of prompts streams one answer per prompt, interleaved by `index`, as vLLM does; the dev engine
 * answers one choice only, so a loopback stand-in for the engine streams what vLLM would.
 */

interface Chunk {
  choices: { index: number; text?: string; delta?: { content?: string }; finish_reason: string | null }[];
}

/** Per request path, the choices to stream, one word per chunk, alternating between choices. */
type Script = Record<string, string[]>;

async function startInterleavingEngine(script: Script): Promise<{ url: string; posts: Record<string, unknown>[]; close(): Promise<void> }> {
  const posts: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      const answers = script[path];
      if (req.method !== 'POST' || !answers) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'dev', object: 'model' }] }));
        return;
      }
      posts.push(JSON.parse(raw) as Record<string, unknown>);
      const chat = path.endsWith('/chat/completions');
      const base = { id: 'cmpl-1', object: chat ? 'chat.completion.chunk' : 'text_completion', created: 1, model: 'dev' };
      const piece = (index: number, text: string) => (chat ? { index, delta: { content: text }, finish_reason: null } : { index, text, finish_reason: null });
      const words = answers.map((a) => a.split(' '));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < Math.max(...words.map((w) => w.length)); i++) {
        words.forEach((w, index) => {
          if (i < w.length) res.write(`data: ${JSON.stringify({ ...base, choices: [piece(index, (i ? ' ' : '') + w[i])] })}\n\n`);
        });
      }
      words.forEach((_, index) => res.write(`data: ${JSON.stringify({ ...base, choices: [{ ...piece(index, ''), ...(chat ? { delta: {} } : {}), finish_reason: 'stop' }] })}\n\n`));
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    posts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const SAFE = 'one two three four five six seven eight nine ten';
const UNSAFE = 'alpha beta gamma delta epsilon zeta zzs1 eta theta iota';

describe('window mode with several answers in one stream', () => {
  let h: Harness;
  let engine: Awaited<ReturnType<typeof startInterleavingEngine>>;
  beforeAll(async () => {
    engine = await startInterleavingEngine({ '/v1/completions': [SAFE, UNSAFE], '/v1/chat/completions': [SAFE, UNSAFE] });
    const policy = fixturePolicyVariant((y) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: window\n  window_tokens: 4\n  overlap_tokens: 1'));
    h = await startHarness({ policy, engineUrl: engine.url });
  });
  afterAll(async () => {
    await h.close();
    await engine.close();
  });

  test('a list of prompts: each answer is checked whole; the unsafe one is replaced, the safe one arrives complete', async () => {
    const res = await fetch(`${h.baseUrl}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, prompt: ['first prompt', 'second prompt'] }) });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(events[events.length - 1]).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    const textOf = (index: number) => chunks.flatMap((c) => c.choices.filter((ch) => ch.index === index).map((ch) => ch.text ?? '')).join('');
    expect(textOf(0)).toBe(SAFE);
    // nothing of the blocked answer, not even its safe first words, reached the client
    for (const word of UNSAFE.split(' ')) expect(textOf(1)).not.toContain(word);
    expect(chunks.some((c) => c.choices.some((ch) => ch.index === 1 && ch.finish_reason === 'content_filter'))).toBe(true);
    const record = h.recorder.records[h.recorder.records.length - 1];
    expect(record.outputs.map((o) => [o.choice, o.decision.action])).toEqual([
      [0, 'allow'],
      [1, 'block'],
    ]);
  });

  test('an engine that streams a second answer nobody asked for: the stream stops before any of it is released', async () => {
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] }) });
    const text = await res.text();
    for (const word of UNSAFE.split(' ')) expect(text).not.toContain(word);
    const record = h.recorder.records[h.recorder.records.length - 1];
    expect(record.status).toBe(502);
    expect(record.error).toMatchObject({ type: 'engine_error' });
    expect(record.outputs.every((o) => o.choice === 0)).toBe(true);
  });

  test('n must be a whole number of answers: a string n is refused before the engine is called', async () => {
    const before = engine.posts.length;
    const res = await fetch(`${h.baseUrl}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, prompt: 'hi', n: '2' }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; param: string | null } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'n' });
    expect(engine.posts.length).toBe(before);
    // at most 128 answers (OpenAI's own bound): a huge n reserved more than 2^53 tokens, which reset the TPM count
    const huge = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hi' }], n: 9007199254740991 }) });
    expect(huge.status).toBe(400);
    expect(((await huge.json()) as { error: { param: string | null } }).error.param).toBe('n');
    expect(engine.posts.length).toBe(before);
  });
});

describe('a whole answer with no choices', () => {
  test('members the engine put beside an empty choice list are still checked: unsafe text never reaches the client', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method !== 'POST') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [] }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'dev', choices: [], note: 'here is how: zzs1 step one' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const h = await startHarness({ engineUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` });
    try {
      const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('step one');
      expect(JSON.parse(text)).toMatchObject({ id: 'c1', choices: [] });
      const record = h.recorder.records[h.recorder.records.length - 1];
      expect(record.outputs.map((o) => [o.choice, o.decision.action])).toEqual([[0, 'block']]);
    } finally {
      await h.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

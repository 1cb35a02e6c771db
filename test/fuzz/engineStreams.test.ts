import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixturePolicyVariant } from '../support/policyFiles';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { problemsWith } from './sseCheck';

/** A fake engine that answers the next completion with exactly the given pieces of bytes, each its own write. */
async function startByteEngine() {
  let pieces: Buffer[] = [];
  let status = 200;
  let contentType = 'text/event-stream';
  const server = http.createServer(async (req, res) => {
    for await (const _ of req) {
      /* drain */
    }
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object":"list","data":[]}');
      return;
    }
    res.writeHead(status, { 'content-type': contentType });
    for (const piece of pieces) {
      res.write(piece);
      // A pause between writes so the pieces reach the gateway as separate reads.
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    next(p: Buffer[], s = 200, type = 'text/event-stream') {
      pieces = p;
      status = s;
      contentType = type;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const chunk = (content: string, finish: string | null = null) => JSON.stringify({ id: 'chatcmpl-f', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: finish }] });
const word = fc.oneof(fc.constantFrom('hello', ' world', ' zzs1', ' ünïcödé', ' 😀', '\n', ' "quoted"', ' \\u0000'), fc.string({ maxLength: 6 }));

/** One SSE event the engine might send, well-formed or not. */
const event = fc.oneof(
  { arbitrary: word.map((w) => `data: ${chunk(w)}`), weight: 8 },
  { arbitrary: fc.constant(': keep-alive'), weight: 1 },
  { arbitrary: fc.constant(':'), weight: 1 },
  { arbitrary: word.map((w) => `event: message\ndata: ${chunk(w)}`), weight: 1 },
  { arbitrary: word.map((w) => `data:${chunk(w)}`), weight: 1 }, // no space after the colon
  { arbitrary: fc.constant('data: {"choices": [{"delta": {"content": "cut'), weight: 1 }, // malformed JSON
  { arbitrary: fc.constant('data: '), weight: 1 },
  { arbitrary: fc.constant('data: null'), weight: 1 },
  { arbitrary: fc.constant('data: {"choices": 7}'), weight: 1 },
  { arbitrary: fc.constant('data: {"usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}, "choices": []}'), weight: 1 },
  { arbitrary: fc.constant('retry: 100'), weight: 1 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
);

const stream = fc.record({
  events: fc.array(event, { maxLength: 12 }),
  finish: fc.boolean(),
  done: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  newline: fc.constantFrom('\n', '\r\n', '\r'),
  truncateAt: fc.option(fc.nat(), { freq: 5 }),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
});

type StreamSpec = { events: string[]; finish: boolean; done: boolean; newline: string; truncateAt: number | null; cuts: number[] };

/** The stream's bytes, cut at the given byte offsets (inside UTF-8 characters and CRLF pairs included). */
function bytesOf(s: StreamSpec): Buffer[] {
  const events = [...s.events, ...(s.finish ? [`data: ${chunk('', 'stop')}`] : []), ...(s.done ? ['data: [DONE]'] : [])];
  let bytes = Buffer.from(events.map((e) => e.replace(/\n/g, s.newline) + s.newline + s.newline).join(''), 'utf8');
  if (s.truncateAt !== null && bytes.length > 0) bytes = bytes.subarray(0, s.truncateAt % bytes.length);
  const cuts = [...new Set(s.cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) pieces.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return pieces;
}

describe.each([
  ['off', (y: string) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: off')],
  ['buffer', (y: string) => y],
  ['window', (y: string) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: window\n  window_tokens: 8\n  overlap_tokens: 2')],
])('fuzz: engine SSE streams (%s mode)', (_mode, edit) => {
  let engine: Awaited<ReturnType<typeof startByteEngine>>;
  let h: Harness;
  beforeAll(async () => {
    engine = await startByteEngine();
    h = await startHarness({ policy: fixturePolicyVariant(edit), engineUrl: engine.baseUrl });
  });
  afterAll(async () => {
    await h.close();
    await engine.close();
  });

  test('whatever the engine streams, the client gets well-formed SSE or a JSON error, and one record per request', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(stream, async (s) => {
        engine.next(bytesOf(s));
        const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
        const answer = { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
        sent++;
        const problems = problemsWith(answer);
        if (problems.length) throw new Error(`${problems.join('; ')}\nstatus ${answer.status}: ${JSON.stringify(answer.body.slice(0, 400))}`);
        // The record is written before the last byte goes out; allow the event loop a turn for the close path.
        for (let i = 0; i < 50 && h.recorder.records.length < sent; i++) await new Promise((r) => setTimeout(r, 5));
        if (h.recorder.records.length !== sent) throw new Error(`${h.recorder.records.length} records for ${sent} requests`);
      }),
      { numRuns: 150 },
    );
    expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200);
  }, 120_000);

  test('whatever the engine answers a non-streamed request with, the client gets JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 100 })), fc.constantFrom(200, 200, 400, 404, 422, 500, 503), async (body, status) => {
        engine.next([Buffer.from(body)], status, 'application/json');
        const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) });
        const answer = { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
        const problems = problemsWith(answer);
        if (problems.length) throw new Error(`${problems.join('; ')}\nengine ${status} ${JSON.stringify(body.slice(0, 100))} -> ${answer.status}: ${answer.body.slice(0, 300)}`);
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});

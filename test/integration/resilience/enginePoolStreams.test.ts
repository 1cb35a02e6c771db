import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { beginsResponse } from '../../../engine/client';
import { UpstreamPool } from '../../../engine/upstreams';

/** Engine replicas on loopback, behind the gateway's engine pool: streams that begin late, or fail slowly. */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; port: number; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.endsWith('/models')) return void res.end('{"object":"list","data":[]}');
      hits++;
      handler(req, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const settings = (baseUrl: string) => ({ baseUrl, connectTimeoutMs: 1000, firstByteTimeoutMs: 1000, idleTimeoutMs: 300, totalTimeoutMs: 20_000 });
const chatStream: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end('data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\ndata: [DONE]\n\n');
};
const responsesStream: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"hi"}\n\n');
};
/** Settles first, or says it is still waiting (the total timeout, 20 s, is what bounded these before). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'still waiting'>((r) => (timer = setTimeout(() => r('still waiting'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the engine pool and streamed requests', () => {
  test("a replica answering a stream 503 whose error body stalls is failed over at the idle timeout, not the total one", async () => {
    const stalled = await serve((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.write('{"error":'); // then nothing
    });
    const good = await serve(chatStream);
    const pool = new UpstreamPool([settings(stalled.url), settings(good.url)], { retries: 1, healthIntervalMs: 60_000 });
    try {
      const res = await within(pool.post('/chat/completions', { stream: true }), 5000);
      expect(res).toMatchObject({ status: 200, server: { port: good.port } });
      expect(stalled.hits()).toBe(1);
    } finally {
      await pool.close();
      await stalled.close();
      await good.close();
    }
  });

  test('a Responses stream hung after response.created and response.in_progress (vLLM sends them before it schedules the request) is failed over, and the replica held down', async () => {
    const hung = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: response.created\ndata: {"response":{"id":"r","status":"in_progress","output":[],"text":{"format":{"type":"text"}}},"sequence_number":0,"type":"response.created"}\n\n');
      res.write('event: response.in_progress\ndata: {"response":{"id":"r","status":"in_progress","output":[]},"sequence_number":1,"type":"response.in_progress"}\n\n');
    });
    const good = await serve(responsesStream);
    // An idle timeout longer than the first-byte one: the opening events must not switch the wait to it.
    const pool = new UpstreamPool([{ ...settings(hung.url), idleTimeoutMs: 10_000 }, { ...settings(good.url), idleTimeoutMs: 10_000 }], { retries: 1, healthIntervalMs: 60_000 });
    try {
      const res = await within(pool.post('/responses', { stream: true }), 5000);
      expect(res).toMatchObject({ status: 200, server: { port: good.port } });
      expect(pool.isUp(0)).toBe(false);
    } finally {
      await pool.close();
      await hung.close();
      await good.close();
    }
  });
});

describe('beginsResponse: which Responses stream chunk begins the answer', () => {
  test('the opening events do not, nested "type" members in them notwithstanding; any other event or [DONE] does', () => {
    expect(beginsResponse(Buffer.from('event: response.created\ndata: {"response":{"text":{"format":{"type":"text"}}},"type":"response.created"}\n\n'))).toBe(false);
    expect(beginsResponse(Buffer.from('event: response.in_progress\ndata: {"type":"response.in_progress"}\n\n: keep-alive\n\n'))).toBe(false);
    expect(beginsResponse(Buffer.from('data: {"type":"response.output_item.added","item":{"type":"message"}}\n\n'))).toBe(true);
    expect(beginsResponse(Buffer.from('data: {"type":"response.created"}\n\ndata: {"type":"response.output_text.delta","delta":"x"}\n\n'))).toBe(true);
    expect(beginsResponse(Buffer.from('data: [DONE]\n\n'))).toBe(true);
  });
});

/** A replica that refused the gateway's key comes back only by a check made with the key, also when an open one was on its way (a review of a68a92d). */
describe('a key refusal during an open health check', () => {
  // vLLM-like: /health open (slow under load), /v1/* refuses the key.
  const engine = http.createServer((req, res) => {
    if (req.url === '/health') return void setTimeout(() => res.end(), 150);
    res.writeHead(401).end('{"error":"Invalid API key"}');
  });
  const other = http.createServer((_req, res) => res.end('{"object":"list","data":[]}'));
  beforeAll(async () => {
    await new Promise<void>((r) => engine.listen(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    engine.closeAllConnections();
    other.closeAllConnections();
    await new Promise<void>((r) => engine.close(() => r()));
    await new Promise<void>((r) => other.close(() => r()));
  });

  test('a key refusal during an open-route health check in flight keeps the replica down', async () => {
    const opts = (port: number) => ({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'wrong', connectTimeoutMs: 1000, firstByteTimeoutMs: 2000, idleTimeoutMs: 2000, totalTimeoutMs: 5000, healthPath: '/health' });
    const pool = new UpstreamPool([opts((engine.address() as AddressInfo).port), opts((other.address() as AddressInfo).port)], { retries: 1, healthIntervalMs: 60_000, healthPath: '/health' });
    try {
      const first = pool.nextUpstream(); // replica 0
      const check = pool.checkAll(); // a periodic check (or a readiness ping) on its way: GET /health
      await new Promise((r) => setTimeout(r, 30));
      pool.upstreamFailed(first, 'HTTP 401: the engine refused the gateway\'s key', true); // a passthrough 401 meanwhile
      expect(pool.isUp(0)).toBe(false);
      await check;
      expect(pool.isUp(0)).toBe(false);
    } finally {
      await pool.close();
    }
  });

});

import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { fixturePolicyVariant } from '../../support/policyFiles';
import { startHarness, type Harness } from '../../support/gatewayHarness';

const MB = 1024 * 1024;

/** An engine that streams `totalBytes` of answer as fast as its reader takes it, and no faster (it waits for drain). */
async function startFloodEngine(totalBytes: number) {
  const state = { sent: 0, waitingForDrain: false, finished: false, abandoned: false };
  const piece = 'x'.repeat(1000);
  const server = http.createServer(async (req, res) => {
    for await (const _ of req) {
      /* read the request */
    }
    // The gateway's health check (GET /models at start and for /readyz), as an engine answers it.
    if (req.method === 'GET') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model' }] }));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.on('close', () => {
      if (!res.writableFinished) state.abandoned = true;
    });
    const event = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
    while (state.sent < totalBytes && !res.destroyed) {
      const text = event(piece);
      state.sent += text.length;
      if (!res.write(text)) {
        state.waitingForDrain = true;
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
        state.waitingForDrain = false;
      }
    }
    if (res.destroyed) return;
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    res.end('data: [DONE]\n\n');
    state.finished = true;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { state, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => new Promise<void>((r) => server.close(() => r())), server };
}

/** Waits until `value()` stops changing across several checks: the pipeline has filled every buffer it has. */
async function steady(value: () => number): Promise<number> {
  let last = -1;
  let same = 0;
  while (same < 5) {
    await new Promise((r) => setTimeout(r, 100));
    const v = value();
    same = v === last ? same + 1 : 0;
    last = v;
  }
  return last;
}

describe('backpressure: a slow reader pauses the engine instead of growing a buffer in the gateway', () => {
  const TOTAL = 128 * MB;
  let engine: Awaited<ReturnType<typeof startFloodEngine>>;
  let h: Harness;
  beforeAll(async () => {
    engine = await startFloodEngine(TOTAL);
    // The answer is far over the default answer cap (engine.max_answer_bytes, 16 MiB): raised, as this is about backpressure.
    h = await startHarness({ policy: fixturePolicyVariant((y) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: off')), engineUrl: engine.baseUrl, config: { engine: { max_answer_bytes: 2 * TOTAL } } });
  });
  afterAll(async () => {
    await h.close();
    engine.server.closeAllConnections();
    await engine.close();
  });

  test('a client that stops reading: the engine ends up waiting for drain with most of the answer unsent; resumed, every byte arrives', async () => {
    const body = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'flood me' }] });
    const socket = net.connect(h.gateway.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.pause(); // the client reads nothing
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);

    const sentWhilePaused = await steady(() => engine.state.sent);
    expect(engine.state.waitingForDrain).toBe(true);
    expect(engine.state.finished).toBe(false);
    // Socket buffers and a few stream high-water marks at most, nowhere near the answer.
    expect(sentWhilePaused).toBeLessThan(TOTAL / 4);

    let received = 0;
    let tail = '';
    socket.on('data', (d: Buffer) => {
      received += d.length;
      tail = (tail + d.toString('latin1')).slice(-64);
    });
    socket.resume();
    await new Promise((r) => socket.once('end', r));
    expect(engine.state.finished).toBe(true);
    expect(received).toBeGreaterThan(TOTAL);
    expect(tail).toMatch(/data: \[DONE\]\n\n(\r\n0\r\n\r\n)?$/);
  }, 120_000);
});

describe('a whole answer read slowly but steadily is never cut off', () => {
  test('12 MB read at about 5 MB/s under a 1 s stall limit arrives in full (one end(), so no drain ever restarts the clock)', async () => {
    // No output rule: this is about writing the answer, not checking 12 MB of it.
    const h = await startHarness({ config: { limits: { stalled_write_timeout_ms: 1000 } }, policy: fixturePolicyVariant((y) => y.replace(/output:\n  - id: unsafe-answer\n    guard: llama_guard\n    threshold: 0.5\n/, 'output: []\n')) });
    try {
      await h.script({ reply: 'hello world '.repeat(1_000_000) });
      const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });
      const socket = net.connect(h.gateway.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.pause();
      socket.on('error', () => undefined);
      let closed = false;
      socket.once('close', () => (closed = true));
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      const chunks: Buffer[] = [];
      const started = Date.now();
      // A steady reader: up to 256 KiB every 50 ms, never pausing longer.
      while (!closed && Date.now() - started < 30_000) {
        await new Promise((r) => setTimeout(r, 50));
        const chunk = (socket.read(256 * 1024) ?? socket.read()) as Buffer | null;
        if (chunk) chunks.push(chunk);
      }
      const received = Buffer.concat(chunks);
      const headEnd = received.indexOf('\r\n\r\n');
      const declared = Number(/content-length: (\d+)/i.exec(received.subarray(0, headEnd).toString('latin1'))?.[1]);
      expect(declared).toBeGreaterThan(12_000_000);
      expect(received.length - (headEnd + 4)).toBe(declared);
      expect(h.recorder.records.map((r) => r.status)).toEqual([200]);

      // The same answer to a client that reads nothing: no progress, so it is cut off once the limit passed.
      await h.script({ reply: 'hello world '.repeat(1_000_000) });
      const idle = net.connect(h.gateway.port, '127.0.0.1');
      await new Promise((r) => idle.once('connect', r));
      idle.pause();
      idle.on('error', () => undefined);
      const idleClosed = new Promise((r) => idle.once('close', r));
      idle.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      await new Promise((r) => setTimeout(r, 3000));
      let got = 0;
      idle.on('data', (d: Buffer) => (got += d.length));
      idle.resume();
      await idleClosed;
      expect(got).toBeGreaterThan(0);
      expect(got).toBeLessThan(declared);
    } finally {
      await h.close();
    }
  }, 60_000);
});

describe('a client that stops reading altogether is cut off after the stall limit', () => {
  test('the response is dropped, the engine request aborted, and the request recorded once', async () => {
    const engine = await startFloodEngine(128 * MB);
    const h = await startHarness({ config: { limits: { stalled_write_timeout_ms: 300 } }, policy: fixturePolicyVariant((y) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: off')), engineUrl: engine.baseUrl });
    try {
      const body = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'flood me' }] });
      const socket = net.connect(h.gateway.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.pause();
      socket.on('error', () => undefined);
      const closed = new Promise((r) => socket.once('close', r));
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      // The paused client cannot notice the hang-up until it reads again; the engine notices at once.
      for (let i = 0; i < 250 && (!engine.state.abandoned || h.recorder.records.length === 0); i++) await new Promise((r) => setTimeout(r, 20));
      expect(engine.state.abandoned).toBe(true);
      expect(engine.state.finished).toBe(false);
      expect(h.recorder.records.map((r) => r.status)).toEqual([499]);
      let tail = '';
      socket.on('data', (d: Buffer) => (tail = (tail + d.toString('latin1')).slice(-64)));
      socket.resume();
      await closed;
      expect(tail).not.toContain('[DONE]');
      const after = await fetch(`${h.gateway.url}/healthz`);
      expect(after.status).toBe(200);
    } finally {
      await h.close();
      engine.server.closeAllConnections();
      await engine.close();
    }
  }, 60_000);
});

import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { readSse, startHarness, type Harness } from '../../support/gatewayHarness';
import { defaultPolicyWithFixtureModels, windowMode } from '../../bypass/support';

const chat = (h: Harness, body: Record<string, unknown>) =>
  fetch(`${h.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }], ...body }) });

describe('engine faults', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { engine: { first_byte_timeout_ms: 400, idle_timeout_ms: 400, total_timeout_ms: 5000 } } });
  });
  afterAll(async () => h.close());

  test('engine answering 500 is a 502 in OpenAI shape', async () => {
    await h.script({ status: 500 });
    const res = await chat(h, {});
    expect(res.status).toBe(502);
    // The engine's own error status: a retry may well succeed, so the openai SDKs may retry it.
    expect(res.headers.get('x-should-retry')).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_error');
  });

  test("an overloaded engine (429): 503 engine_unavailable carrying the engine's Retry-After", async () => {
    await h.script({ status: 429, retry_after: 7 });
    const res = await chat(h, {});
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('x-should-retry')).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_unavailable');
    // The client hears engine_unavailable for all three causes; the record says which.
    expect(h.recorder.records.at(-1)?.error?.message).toContain('(engine HTTP 429)');
  });

  test("an unavailable engine (503): 503 engine_unavailable carrying the engine's Retry-After, not a 502", async () => {
    await h.script({ status: 503, retry_after: 9 });
    const res = await chat(h, {});
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('9');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_unavailable');
    expect(h.recorder.records.at(-1)).toMatchObject({ status: 503, error: { type: 'engine_unavailable', message: expect.stringContaining('(engine HTTP 503)') } });
  });

  test('engine answering 400 reaches the client with its status and message', async () => {
    await h.script({ status: 400 });
    const res = await chat(h, {});
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('scripted failure 400');
  });

  test("an engine's 4xx message is read by the output rules: one that quotes unsafe text is withheld, its status kept", async () => {
    // Engines quote the request back in their errors (a validation error's input_value=...).
    await h.script({ status: 400, error_message: "1 validation error: input_value='zzs11 here is how'" });
    const res = await chat(h, {});
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; type: string } };
    expect(body.error.message).not.toContain('zzs11');
    expect(body.error.message).toContain('withheld');
    expect(body.error.type).toBe('invalid_request_error');
    const record = h.recorder.records[h.recorder.records.length - 1];
    expect(record.status).toBe(400);
    expect(record.outputs.flatMap((p) => p.decision.outcomes.map((o) => [o.ruleId, o.action]))).toContainEqual(['unsafe-answer', 'block']);
    // The record keeps what the engine said (the audit hashes it unless content capture says otherwise).
    expect(record.error).toEqual({ type: 'engine_rejected', message: "1 validation error: input_value='zzs11 here is how'" });

    // An ordinary one passes, read the same way.
    await h.script({ status: 400, error_message: "This model's maximum context length is 131072 tokens." });
    const ok = await chat(h, {});
    expect(((await ok.json()) as { error: { message: string } }).error.message).toBe("This model's maximum context length is 131072 tokens.");
    const passed = h.recorder.records[h.recorder.records.length - 1];
    expect(passed.outputs.map((p) => p.decision.action)).toEqual(['allow']);
  });

  test("an engine's 4xx code and param are read with its message: free text there is dropped, unsafe words withhold all three", async () => {
    // An identifier and a member path pass, read by the output rules with the message.
    await h.script({ status: 400, error_message: 'prompt too long', error_code: 'context_length_exceeded', error_param: 'messages.0.content' });
    const ok = (await (await chat(h, {})).json()) as { error: { message: string; code: string | null; param: string | null } };
    expect(ok.error).toMatchObject({ message: 'prompt too long', code: 'context_length_exceeded', param: 'messages.0.content' });
    expect(h.recorder.records[h.recorder.records.length - 1].error).toEqual({ type: 'engine_rejected', message: 'prompt too long\ncontext_length_exceeded\nmessages.0.content' });

    // Free text in code or param never reaches the client, whatever the rules say of it.
    await h.script({ status: 400, error_message: 'bad request', error_code: 'you are worthless', error_param: 'kill yourself, nobody would miss you' });
    const prose = (await (await chat(h, {})).json()) as { error: { message: string; code: string | null; param: string | null } };
    expect(prose.error).toMatchObject({ message: 'bad request', code: null, param: null });

    // Unsafe words in an identifier-shaped code withhold the message, the code and the param.
    await h.script({ status: 400, error_message: 'bad request', error_code: 'zzs11-here-is-how', error_param: 'messages.0' });
    const res = await chat(h, {});
    expect(res.status).toBe(400);
    const blocked = (await res.json()) as { error: { message: string; code: string | null; param: string | null } };
    expect(blocked.error.message).toContain('withheld');
    expect(blocked.error.code).toBeNull();
    expect(blocked.error.param).toBeNull();
    expect(JSON.stringify(blocked)).not.toContain('zzs11');
    const record = h.recorder.records[h.recorder.records.length - 1];
    expect(record.outputs.flatMap((p) => p.decision.outcomes.map((o) => [o.ruleId, o.action]))).toContainEqual(['unsafe-answer', 'block']);
    expect(record.error).toEqual({ type: 'engine_rejected', message: 'bad request\nzzs11-here-is-how\nmessages.0' });
  });

  test('engine slower than the first-byte timeout is a 504', async () => {
    await h.script({ hang: true });
    const res = await chat(h, {});
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('engine_timeout');
    expect(body.error.message).toContain('first-byte');
    // The openai SDKs would otherwise retry twice, each waiting out the timeout again.
    expect(res.headers.get('x-should-retry')).toBe('false');
  });

  test('engine dropping a stream midway: buffer mode answers 502, nothing of the answer leaks', async () => {
    await h.script({ reply: 'alpha beta gamma delta epsilon', drop_after_chunks: 2 });
    const res = await chat(h, { stream: true });
    expect(res.status).toBe(502);
    // Cut short (a restart, a proxy's idle cut), not malformed: the client got nothing, a retry is how it recovers.
    expect(res.headers.get('x-should-retry')).toBeNull();
    const text = await res.text();
    expect(text).not.toContain('alpha');
    const last = h.recorder.records[h.recorder.records.length - 1];
    expect(last.status).toBe(502);
    // Nothing went out before the 502: not a partial answer.
    expect(last.partial).toBeUndefined();
  });

  test('a client that disconnects aborts the upstream request', async () => {
    await h.script({ reply: 'slow answer '.repeat(50), token_delay_ms: 50 });
    const before = h.engine.stats.aborted;
    const controller = new AbortController();
    const request = fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    setTimeout(() => controller.abort(), 150);
    await request;
    for (let i = 0; i < 50 && h.engine.stats.aborted === before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(h.engine.stats.aborted).toBeGreaterThan(before);
  });

  test('a client that is gone by the time its request is admitted: recorded 499, the engine answer not awaited', async () => {
    // A long prompt makes the gateway count tokens in slices (yielding), so the close can land
    // while the request is admitted, before the guarded call listens for it.
    const before = h.recorder.records.length;
    const body = JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'word '.repeat(40_000) }] });
    const url = new URL(h.gateway.url);
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => {
          socket.destroy();
          resolve();
        });
      });
    });
    for (let i = 0; i < 80 && h.recorder.records.length === before; i++) await new Promise((r) => setTimeout(r, 25));
    const record = h.recorder.records[h.recorder.records.length - 1];
    // without the check, the engine's answer was awaited and recorded as a 200 allow
    expect([record.status, record.error?.type]).toEqual([499, 'client_closed']);
  });

  test('the gateway serves normally afterwards', async () => {
    await h.script({ reply: 'fine again' });
    const res = await chat(h, { stream: true });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(events[events.length - 1]).toBe('[DONE]');
    const text = events.slice(0, -1).map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('fine again');
  });
});

describe('engine down', () => {
  test('connection refused is a 503 and readyz says why', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const h = await startHarness({ engineUrl: `http://127.0.0.1:${port}/v1` });
    try {
      const res = await chat(h, {});
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('engine_unavailable');
      expect(body.error.message).not.toContain('127.0.0.1');
      expect(h.recorder.records.at(-1)?.error?.message).toContain('(unreachable: ECONNREFUSED)');
      expect(h.recorder.records.at(-1)?.error?.message).not.toContain('127.0.0.1');
      const ready = await fetch(`${h.gateway.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { problems: Record<string, string> }).problems.engine).toBeTruthy();
      expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('engine failing in the middle of a whole (not streamed) answer', () => {
  let mode: 'stall' | 'reset' = 'stall';
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"partial');
      if (mode === 'reset') setTimeout(() => res.socket?.destroy(), 20);
    });
  });
  let h: Harness;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    h = await startHarness({ engineUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, config: { engine: { idle_timeout_ms: 300, total_timeout_ms: 5000 } } });
  });
  afterAll(async () => {
    await h.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('a body that stalls is a 504 engine_timeout, recorded as such; nothing of it reaches the client', async () => {
    mode = 'stall';
    const res = await chat(h, {});
    expect(res.status).toBe(504);
    const body = await res.text();
    expect(JSON.parse(body).error.code).toBe('engine_timeout');
    expect(body).not.toContain('partial');
    expect(h.recorder.records[h.recorder.records.length - 1].status).toBe(504);
  });

  test('a connection reset mid-body is a 502 engine_error (chat and the model list alike)', async () => {
    mode = 'reset';
    const res = await chat(h, {});
    expect(res.status).toBe(502);
    expect(res.headers.get('x-should-retry')).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_error');
    expect(h.recorder.records[h.recorder.records.length - 1].status).toBe(502);
    const models = await fetch(`${h.gateway.url}/v1/models`);
    expect(models.status).toBe(502);
    expect(((await models.json()) as { error: { code: string } }).error.code).toBe('engine_error');
  });
});

describe('engine answers the gateway will not read: nested too deep, or an endless error body', () => {
  let mode: 'deep' | 'deep-stream' | 'endless-500' = 'deep';
  let errorBodyClosed: Promise<number> = Promise.resolve(0);
  // Deeper than any answer the gateway reads (it refuses past 1,100 levels), well under the answer cap.
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const answer = (extra: string) =>
    `{"id":"c1","object":"chat.completion","created":1,"model":"dev","choices":[{"index":0,"message":{"role":"assistant","content":"hello","x":${extra}},"finish_reason":"stop"}]}`;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (mode === 'deep') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer(deep(100_000)));
      } else if (mode === 'deep-stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"dev","choices":[{"index":0,"delta":{"content":"hello","x":${deep(6000)}},"finish_reason":null}]}`;
        res.end(`data: ${chunk}\n\ndata: [DONE]\n\n`);
      } else {
        // A 500 whose body never ends: the gateway must stop reading it, not buffer it until a timeout.
        res.writeHead(500, { 'content-type': 'text/plain' });
        const block = 'x'.repeat(64 * 1024);
        let written = 0;
        const timer = setInterval(() => {
          written += block.length;
          res.write(block);
        }, 5);
        errorBodyClosed = new Promise((resolve) =>
          res.once('close', () => {
            clearInterval(timer);
            resolve(written);
          }),
        );
      }
    });
  });
  let h: Harness;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    h = await startHarness({ engineUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, config: { engine: { idle_timeout_ms: 2000, total_timeout_ms: 60_000 } } });
  });
  afterAll(async () => {
    await h.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test.each([
    ['a whole answer', 'deep', false],
    ['a stream event', 'deep-stream', true],
  ] as const)('%s nested thousands of levels deep: 502 engine_error and exactly one record', async (_what, m, stream) => {
    mode = m;
    const before = h.recorder.records.length;
    const res = await chat(h, { stream });
    expect(res.status).toBe(502);
    const body = await res.text();
    expect(JSON.parse(body).error.code).toBe('engine_error');
    expect(body).not.toContain('hello');
    const records = h.recorder.records.slice(before);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 502 });
  });

  test('a 500 whose body never ends: 502 at once, the body dropped after its first 64 KiB', async () => {
    mode = 'endless-500';
    const res = await chat(h, {});
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_error');
    // The gateway closed the engine's connection while the body was still coming (no timeout fired: the idle timeout never applies to a body that keeps flowing).
    const written = await errorBodyClosed;
    expect(written).toBeLessThan(16 * 1024 * 1024);
    expect(h.recorder.records[h.recorder.records.length - 1]).toMatchObject({ status: 502 });
  });
});

describe('a stream that fails after its first checked windows went out (window mode)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(2)) });
  });
  afterAll(async () => h.close());

  test('the client got a 200 and part of the answer: the record says 502 and that it was partial', async () => {
    // Slow enough that the first windows are released before the engine breaks off, however busy the machine.
    await h.script({ reply: 'one two three four five six seven eight nine ten', drop_after_chunks: 6, token_delay_ms: 60 });
    const res = await chat(h, { stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('engine_error');
    expect(h.recorder.records.at(-1)).toMatchObject({ status: 502, partial: true, error: { type: 'engine_error' } });
  });
});

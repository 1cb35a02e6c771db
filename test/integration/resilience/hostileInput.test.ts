import net from 'node:net';
import { startHarness, type Harness } from '../../support/gatewayHarness';

type Json = Record<string, any>;

/** Sends raw bytes and reads the whole answer until the gateway closes the connection. */
async function raw(port: number, chunks: (string | { waitForCloseMs: number })[]): Promise<{ status: number; head: string; body: string; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let text = '';
  socket.on('data', (d) => (text += d.toString('utf8')));
  const closed = new Promise<boolean>((r) => socket.once('close', () => r(true)));
  socket.on('error', () => undefined);
  for (const chunk of chunks) {
    if (typeof chunk === 'string') socket.write(chunk);
    else await Promise.race([closed, new Promise((r) => setTimeout(r, chunk.waitForCloseMs).unref())]);
  }
  const didClose = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
  socket.destroy();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, head: text.slice(0, text.indexOf('\r\n\r\n')), body: text.slice(text.indexOf('\r\n\r\n') + 4), closed: didClose };
}

describe('hostile input limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { limits: { messages: 5, content_parts: 6, texts: 40, json_depth: 16, header_bytes: 2048, headers_timeout_ms: 400, request_timeout_ms: 400 } } });
  });
  afterAll(async () => h.close());

  const post = (body: string, headers: Record<string, string> = {}) => fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  async function expectError(res: Response, status: number, code: string) {
    expect(res.status).toBe(status);
    const body = (await res.json()) as Json;
    expect(body.error).toMatchObject({ code, type: 'invalid_request_error' });
    return body;
  }

  test('JSON nested past the depth limit is refused before parsing: 400 json_too_deep', async () => {
    const deep = `{"messages":[{"role":"user","content":"hi","x":${'['.repeat(500)}${']'.repeat(500)}}]}`;
    const body = await expectError(await post(deep), 400, 'json_too_deep');
    expect(body.error.message).toContain('16 levels');
    expect(h.engine.stats.requests).toBe(0);
  });

  test('brackets inside strings do not count', async () => {
    const res = await post(JSON.stringify({ messages: [{ role: 'user', content: '['.repeat(500) }] }));
    expect(res.status).toBe(200);
  });

  test('too many messages or content parts: 400 naming the limit, guards and engine never run', async () => {
    const before = h.engine.stats.requests;
    const records = h.recorder.records.length;
    await expectError(await post(JSON.stringify({ messages: Array.from({ length: 6 }, () => ({ role: 'user', content: 'hi' })) })), 400, 'too_many_messages');
    const parts = Array.from({ length: 7 }, () => ({ type: 'text', text: 'hi' }));
    await expectError(await post(JSON.stringify({ messages: [{ role: 'user', content: parts }] })), 400, 'too_many_content_parts');
    expect(h.engine.stats.requests).toBe(before);
    expect(h.recorder.records.length).toBe(records);
  });

  test('more texts than limits.texts, wherever they are (tool calls, tool definitions, a member the gateway does not know): 400 too_many_texts, audited, guards and engine never run', async () => {
    const before = h.engine.stats.requests;
    const records = h.recorder.records.length;
    const call = (i: number) => ({ id: `call_${i}`, type: 'function', function: { name: 'f', arguments: `{"i":${i}}` } });
    const bodies = [
      { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: Array.from({ length: 20 }, (_, i) => call(i)) }, { role: 'user', content: 'go on' }] },
      { messages: [{ role: 'user', content: 'hi' }], tools: Array.from({ length: 41 }, (_, i) => ({ type: 'function', function: { name: `t${i}` } })) },
      { messages: [{ role: 'user', content: 'hi', notes: Array.from({ length: 41 }, (_, i) => `note ${i}`) }] },
    ];
    for (const body of bodies) {
      const rejections = h.recorder.rejections.length;
      const error = await expectError(await post(JSON.stringify({ model: 'dev', ...body })), 400, 'too_many_texts');
      expect(error.error.message).toMatch(/texts to check .*; the limit is 40/);
      expect(h.recorder.rejections.slice(rejections)).toEqual([expect.objectContaining({ kind: 'invalid_request', reason: 'too_many_texts', route: '/v1/chat/completions' })]);
    }
    expect(h.engine.stats.requests).toBe(before);
    expect(h.recorder.records.length).toBe(records);
    // Under the limit: answered.
    const ok = await post(JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: [call(1), call(2)] }, { role: 'tool', tool_call_id: 'call_1', content: 'x' }, { role: 'tool', tool_call_id: 'call_2', content: 'y' }] }));
    expect(ok.status).toBe(200);
  });

  test('oversized request headers: 431 in OpenAI shape', async () => {
    const res = await raw(h.gateway.port, [`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(4096)}\r\n\r\n`]);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'headers_too_large', type: 'invalid_request_error' } });
  });

  test('a client that never finishes its headers is answered 408 and disconnected', async () => {
    const res = await raw(h.gateway.port, ['POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n', { waitForCloseMs: 5000 }]);
    expect(res.closed).toBe(true);
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body).error.code).toBe('request_timeout');
  });

  test('a slow-loris body is answered 408 and disconnected, with its request id; its record says 408 request_timeout too', async () => {
    const res = await raw(h.gateway.port, ['POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"mess', { waitForCloseMs: 5000 }]);
    expect(res.closed).toBe(true);
    expect(res.status).toBe(408);
    const requestId = /^x-request-id: (\S+)$/im.exec(res.head)?.[1];
    expect(requestId).toMatch(/^req_/);
    // The record follows once the body read fails: as the client was answered, not "aborted".
    const deadline = Date.now() + 5000;
    while (!h.recorder.rejections.some((r) => r.requestId === requestId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(h.recorder.rejections.find((r) => r.requestId === requestId)).toMatchObject({ kind: 'invalid_request', status: 408, reason: 'request_timeout', route: '/v1/chat/completions' });
  });

  test('a streamed answer may take longer than the request timeout (it bounds receiving the request only)', async () => {
    await h.script({ reply: 'one two three four five six seven eight nine ten', token_delay_ms: 100 });
    const res = await post(JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('[DONE]');
  });

  test('garbage instead of HTTP: 400 JSON', async () => {
    const res = await raw(h.gateway.port, ['NOT HTTP AT ALL\r\n\r\n']);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('bad_request');
  });

  test.each([
    ['a head over the header limit', `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(4096)}\r\n\r\n`, 431],
    ['garbage', 'NOT HTTP AT ALL\r\n\r\n', 400],
  ])('pipelined after a valid request, %s is answered after that request, which gets its own 200 and record', async (_name, bad, status) => {
    await h.script({ reply: 'the first answer, which takes a moment to generate', token_delay_ms: 30 });
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });
    const before = h.recorder.records.length;
    const socket = net.connect(h.gateway.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise((r) => socket.once('close', r));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}${bad}`);
    // More bytes while the first answer is under way: the parser, in error, raises each chunk again; one answer still.
    for (let i = 0; i < 15; i++) {
      await new Promise((r) => setTimeout(r, 5));
      if (!socket.destroyed) socket.write('MORE GARBAGE\r\n');
    }
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000).unref())]);
    process.off('warning', onWarning);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    socket.destroy();
    const answers = text.split(/(?=HTTP\/1\.1 \d{3} )/).filter((a) => a.startsWith('HTTP/1.1')).map((a) => ({ status: Number(a.slice(9, 12)), id: /^x-request-id: (\S+)$/im.exec(a)?.[1] }));
    const record = h.recorder.records[before];
    expect(answers).toEqual([{ status: 200, id: record.requestId }, { status, id: undefined }]);
    expect(text).toContain('the first answer');
    expect(record.status).toBe(200);
  });

  test('CONNECT (a proxy tunnel) gets a 405 in OpenAI shape, not a silently closed socket', async () => {
    const res = await raw(h.gateway.port, ['CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n', { waitForCloseMs: 2000 }]);
    expect(res.status).toBe(405);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'method_not_allowed', type: 'invalid_request_error' } });
  });

  test('a malformed percent-encoding in a model id: 400 invalid_path, saying so', async () => {
    const res = await fetch(`${h.baseUrl}/models/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: 'invalid_path', message: expect.stringMatching(/percent-encoding/) });
  });

  test('still healthy and serving', async () => {
    expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200);
    expect((await post(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }))).status).toBe(200);
  });
});

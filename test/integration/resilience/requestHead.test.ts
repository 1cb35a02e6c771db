import http from 'node:http';
import net from 'node:net';
import { startHarness, type Harness } from '../../support/gatewayHarness';
import { addKey, tempKeysFile } from '../../support/keys';

interface ExpectOutcome {
  status: number;
  body: string;
  /** Whether the gateway sent `100 Continue` (so the client uploaded its body). */
  continued: boolean;
}

/** A POST with `Expect: 100-continue`, as curl sends for large bodies: the body goes only after the interim answer. */
function postExpecting(port: number, path: string, body: string, headers: Record<string, string>, contentLength = Buffer.byteLength(body)): Promise<ExpectOutcome> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(contentLength), expect: '100-continue', ...headers } });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text, continued });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** Raw bytes in, the whole answer out (the gateway closes the connection). */
async function raw(port: number, request: string): Promise<{ status: number; head: string; body: string }> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d) => (text += d.toString('utf8')));
  socket.on('error', () => undefined);
  const closed = new Promise((r) => socket.once('close', r));
  socket.write(request);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
  socket.destroy();
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), head: text.slice(0, text.indexOf('\r\n\r\n')), body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

describe('the request head: Expect 100-continue and Host', () => {
  let h: Harness;
  let key: string;
  const chat = JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'Write a haiku about autumn.' }] });
  beforeAll(async () => {
    const file = tempKeysFile();
    key = await addKey(file, 'uploader');
    h = await startHarness({ config: { keys: { file }, limits: { body_bytes: 64 * 1024 } } });
  });
  afterAll(async () => h.close());

  test('no key: the 401 comes instead of 100 Continue, so the body is never uploaded', async () => {
    const before = h.engine.stats.requests;
    const out = await postExpecting(h.gateway.port, '/v1/chat/completions', chat, {});
    expect(out).toMatchObject({ status: 401, continued: false });
    expect(JSON.parse(out.body).error.code).toBe('invalid_api_key');
    expect(h.engine.stats.requests).toBe(before);
  });

  test('a body declared over the limit: 413 without 100 Continue', async () => {
    const rejections = h.recorder.rejections.length;
    const out = await postExpecting(h.gateway.port, '/v1/chat/completions', '', { authorization: `Bearer ${key}` }, 10 * 1024 * 1024);
    expect(out).toMatchObject({ status: 413, continued: false });
    expect(JSON.parse(out.body).error).toMatchObject({ code: 'request_too_large', type: 'invalid_request_error' });
    // Audited like any refusal on a guarded route.
    expect(h.recorder.rejections.slice(rejections)).toEqual([expect.objectContaining({ kind: 'invalid_request', status: 413 })]);
  });

  test('a valid key: 100 Continue, then the body is read, checked and answered', async () => {
    const before = h.recorder.records.length;
    const out = await postExpecting(h.gateway.port, '/v1/chat/completions', chat, { authorization: `Bearer ${key}` });
    expect(out).toMatchObject({ status: 200, continued: true });
    expect(JSON.parse(out.body).choices[0].message.content).toContain('stand-in');
    expect(h.recorder.records.slice(before).map((r) => r.app)).toEqual(['uploader']);
  });

  test('a client that sends its body without waiting for 100 (and is refused) keeps its connection for the next request', async () => {
    const socket = net.connect(h.gateway.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let text = '';
    socket.on('data', (d) => (text += d.toString('utf8')));
    const head = (extra: string) => `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n${extra}\r\n`;
    const answers = () => (text.match(/HTTP\/1\.1 200 OK/g) ?? []).length;
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    // Refused (no key) after its body was already sent, then a second request on the same connection.
    socket.write(head('expect: 100-continue\r\n').replace(`authorization: Bearer ${key}\r\n`, '') + chat);
    await until(() => text.includes('invalid_api_key'));
    socket.write(head('') + chat);
    await until(() => answers() === 1);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(text).toMatch(/HTTP\/1\.1 401/);
    expect(answers()).toBe(1);
    expect(text).not.toMatch(/connection: close/i);
  });

  test('a passthrough route reads its body after the gate too', async () => {
    const refused = await postExpecting(h.gateway.port, '/v1/embeddings', JSON.stringify({ model: 'dev', input: 'hi' }), {});
    expect(refused).toMatchObject({ status: 401, continued: false });
  });

  test('HTTP/1.1 without Host: an OpenAI-shaped 400, not a bare status line', async () => {
    const out = await raw(h.gateway.port, 'GET /healthz HTTP/1.1\r\n\r\n');
    expect(out.status).toBe(400);
    expect(JSON.parse(out.body)).toEqual({ error: { message: expect.stringContaining('Host'), type: 'invalid_request_error', param: null, code: 'missing_host' } });
  });

  test('without Host on a guarded route: the same 400, with its request id, audited as an invalid request', async () => {
    const rejections = h.recorder.rejections.length;
    const before = h.engine.stats.requests;
    const out = await raw(h.gateway.port, `POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}`);
    expect(out.status).toBe(400);
    expect(JSON.parse(out.body).error.code).toBe('missing_host');
    expect(out.head).toMatch(/^x-request-id: \S+/im);
    expect(h.recorder.rejections.slice(rejections)).toEqual([expect.objectContaining({ kind: 'invalid_request', status: 400, reason: 'missing_host', app: 'uploader' })]);
    expect(h.engine.stats.requests).toBe(before);
  });

  test('a client that hangs up halfway through its body: recorded as 499 client_closed, not as a 400 nobody received', async () => {
    const rejections = h.recorder.rejections.length;
    const socket = net.connect(h.gateway.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat.slice(0, 20)}`);
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    for (let i = 0; i < 40 && h.recorder.rejections.length === rejections; i++) await new Promise((r) => setTimeout(r, 25));
    expect(h.recorder.rejections.slice(rejections)).toEqual([expect.objectContaining({ kind: 'invalid_request', status: 499, reason: 'client_closed' })]);
  });

  test("a head cut off by the client's half-close still gets its 400, on a reused connection too", async () => {
    for (const before of ['', 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n']) {
      const socket = net.connect(h.gateway.port, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d.toString('utf8')));
      socket.on('error', () => undefined);
      await new Promise((r) => socket.once('connect', r));
      socket.write(before);
      if (before) for (let i = 0; i < 40 && !text.includes('\r\n\r\n{'); i++) await new Promise((r) => setTimeout(r, 25));
      socket.end('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-ty');
      await Promise.race([new Promise((r) => socket.once('close', r)), new Promise((r) => setTimeout(r, 3000))]);
      socket.destroy();
      expect(text).toMatch(/HTTP\/1\.1 400 Bad Request/);
    }
  });

  test('an Expect other than 100-continue: an OpenAI-shaped 417, and the engine never called', async () => {
    const before = h.engine.stats.requests;
    const out = await raw(h.gateway.port, `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nexpect: foo\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}`);
    expect(out.status).toBe(417);
    expect(JSON.parse(out.body)).toEqual({ error: { message: expect.stringContaining('foo'), type: 'invalid_request_error', param: null, code: 'expectation_failed' } });
    expect(h.engine.stats.requests).toBe(before);
  });

  test('HTTP/1.0 may leave Host out', async () => {
    const out = await raw(h.gateway.port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(out.status).toBe(200);
  });
});

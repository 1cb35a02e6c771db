import net from 'node:net';
import { startHarness, type Harness } from '../../support/gatewayHarness';

/** One raw HTTP/1.1 exchange, for request targets fetch() would normalise. */
function rawRequest(port: number, head: string, body: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${head}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`));
    let text = '';
    socket.on('data', (d) => (text += d.toString('utf8')));
    socket.on('end', () => {
      const [headers, ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(headers.split(' ')[1]), headers: headers.toLowerCase(), body: rest.join('\r\n\r\n') });
    });
    socket.on('error', reject);
  });
}

/**
 * The guarded routes run on their own path (gateway/app.ts), not through express's router: every
 * target express would have matched to them must still reach the guards and the record, and
 * their answers look as express wrote them.
 */
describe('the guarded path takes every target express would route to a guarded route', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());
  const body = JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello there' }] });

  test('case, a trailing slash and a query string: guarded, recorded, the route named by its pattern', async () => {
    for (const path of ['/v1/chat/completions', '/V1/CHAT/completions', '/v1/chat/completions/', '/v1/chat/completions?trace=1']) {
      const records = h.recorder.records.length;
      const res = await fetch(`${h.gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('x-safety-verdict')).toBe('allow');
      expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
      expect(h.recorder.records.length).toBe(records + 1);
      expect(h.recorder.records[records]).toMatchObject({ route: '/v1/chat/completions', status: 200, requestId: res.headers.get('x-request-id') });
    }
  });

  test('a request target in absolute form is guarded too (served by express)', async () => {
    const records = h.recorder.records.length;
    const res = await rawRequest(h.gateway.port, `POST http://127.0.0.1:${h.gateway.port}/v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json`, body);
    expect(res.status).toBe(200);
    expect(res.headers).toContain('x-safety-verdict: allow');
    expect(h.recorder.records.length).toBe(records + 1);
  });

  test('other methods on a guarded path are not guarded completions: a 404 from express, no record', async () => {
    const records = h.recorder.records.length;
    const res = await fetch(`${h.baseUrl}/chat/completions`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect(h.recorder.records.length).toBe(records);
  });

  test('errors on the guarded path are answered as before: 415, invalid JSON, too deep, body too large', async () => {
    const post = (payload: string, type = 'application/json') => fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': type }, body: payload });
    const cases: [Response, number, string][] = [
      [await post(body, 'text/plain'), 415, 'unsupported_media_type'],
      [await post('{'), 400, 'invalid_json'],
      [await post('"just a string"'), 400, 'invalid_json'],
      [await post(`{"messages":${'['.repeat(100)}${']'.repeat(100)}}`), 400, 'json_too_deep'],
      [await post(JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] })), 413, 'request_too_large'],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });
});

import http from 'node:http';
import { startHarness, type Harness } from '../../support/gatewayHarness';
import { rawRequest, startRecordingUpstream, type RecordingUpstream } from '../../support/recordingUpstream';

/**
 * The passthrough route (the fixture policy lists /v1/embeddings) forwards within the gateway's
 * body limit, and as a proxy should: hop-by-hop headers and the client's own forwarding and
 * request-id headers stay with the client; the engine hears the gateway's request id.
 */
describe('passthrough: body limit and headers', () => {
  let upstream: RecordingUpstream;
  let h: Harness;
  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    h = await startHarness({ engineUrl: upstream.baseUrl, config: { limits: { body_bytes: 64 * 1024 } } });
  });
  afterAll(async () => {
    await h.close();
    await upstream.close();
  });

  /** POSTs `bytes` to /v1/embeddings, chunked (no Content-Length) unless `declared`. */
  function post(bytes: number, declared: boolean): Promise<{ status: number; code?: string }> {
    return new Promise((resolve, reject) => {
      const url = new URL(`${h.baseUrl}/embeddings`);
      const body = Buffer.alloc(bytes, 'a');
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(declared ? { 'content-length': String(bytes) } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: text.startsWith('{') ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined }));
      });
      req.on('error', (err) => (/EPIPE|ECONNRESET/.test(String(err)) ? resolve({ status: 0 }) : reject(err)));
      if (declared) req.end(body);
      else {
        for (let at = 0; at < bytes; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024));
        req.end();
      }
    });
  }

  test('a body over limits.body_bytes is refused with 413, declared or chunked; one within it is forwarded', async () => {
    const before = upstream.forwarded().length;
    expect(await post(200 * 1024, true)).toEqual({ status: 413, code: 'request_too_large' });
    expect(upstream.forwarded().length).toBe(before);
    const chunked = await post(1024 * 1024, false);
    expect([413, 0]).toContain(chunked.status);
    // Whatever reached the engine was cut off: it never received a whole request past the limit.
    expect(upstream.forwarded().length).toBe(before);
    expect((await post(1024, true)).status).toBe(200);
    expect(upstream.forwarded().length).toBe(before + 1);
  });

  test('Expect: 100-continue changes nothing the engine hears: no client key, no cookie, the gateway request id', async () => {
    const answer = await new Promise<{ status: number; continued: boolean; requestId: string }>((resolve, reject) => {
      let continued = false;
      const body = '{"model":"dev","input":"x"}';
      const req = http.request(`${h.baseUrl}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), expect: '100-continue', authorization: 'Bearer client-gateway-key', cookie: 'session=abc' } });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, continued, requestId: String(res.headers['x-request-id']) }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(answer).toMatchObject({ status: 200, continued: true });
    const got = upstream.forwarded().at(-1)!.headers;
    expect(got.authorization).toBeUndefined();
    expect(got.cookie).toBeUndefined();
    expect(got.expect).toBeUndefined();
    expect(got['x-request-id']).toBe(answer.requestId);
  });

  test('hop-by-hop and client forwarding headers are not forwarded; the engine gets the gateway request id', async () => {
    // node:http (fetch refuses to send a Connection header).
    const res = await rawRequest(h.gateway.url, 'POST', '/v1/embeddings', { connection: 'keep-alive, x-secret-hop', 'x-secret-hop': 'a', 'x-forwarded-for': '1.2.3.4', 'x-request-id': 'client-rid', 'proxy-connection': 'keep-alive' }, '{"model":"dev","input":"x"}');
    expect(res.status).toBe(200);
    const got = upstream.forwarded().at(-1)!.headers;
    for (const name of ['x-secret-hop', 'x-forwarded-for', 'proxy-connection']) expect(got[name]).toBeUndefined();
    expect(got['x-request-id']).toBe(res.headers['x-request-id']);
    expect(got['x-request-id']).not.toBe('client-rid');
  });
});

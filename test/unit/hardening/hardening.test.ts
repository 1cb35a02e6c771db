import { bodyShapeError } from '../../../gateway/access/hardening/bodyShape';
import { clientErrorResponse } from '../../../gateway/access/hardening/clientErrors';
import { exceedsJsonDepth, jsonDepthVerifier } from '../../../gateway/access/hardening/jsonDepth';
import { httpServerOptions } from '../../../gateway/access/hardening/serverOptions';
import { nestsDeeperThan } from '../../../gateway/pipeline/engineAnswer';

const depth = (text: string, limit: number) => exceedsJsonDepth(Buffer.from(text), limit);

describe('JSON depth, before parsing', () => {
  test('counts arrays and objects, not brackets inside strings or escaped quotes', () => {
    expect(depth('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(depth('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(depth('{"a":"[[[[[[[[[[[["}', 2)).toBe(false);
    expect(depth('{"a":"\\"[[[[[[[[["}', 2)).toBe(false);
    expect(depth('[[[[[[', 5)).toBe(true);
    expect(depth('['.repeat(1_000_000), 64)).toBe(true);
  });

  test("an engine answer's text is measured the same way as a request's bytes", () => {
    const cases: [string, number][] = [
      ['{"a":[{"b":[1]}]}', 4],
      ['{"a":[{"b":[1]}]}', 3],
      ['{"a":"[[[[[[[[[[[["}', 2],
      ['{"a":"\\"[[[[[[[[["}', 2],
      ['{"é":["ü",{"日本":[["x"]]}]}', 4],
      ['{"é":["ü",{"日本":[["x"]]}]}', 5],
      ['['.repeat(100_000), 64],
    ];
    for (const [text, limit] of cases) expect(nestsDeeperThan(text, limit)).toBe(depth(text, limit));
    expect(nestsDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
  });

  test('the verify hook throws an error that carries the OpenAI-shaped 400', () => {
    const verify = jsonDepthVerifier(3);
    expect(() => verify({} as never, {} as never, Buffer.from('[[[1]]]'))).not.toThrow();
    try {
      verify({} as never, {} as never, Buffer.from('[[[[1]]]]'));
      throw new Error('accepted');
    } catch (err) {
      const e = err as { status: number; apiError: { status: number; code: string } };
      expect(e.status).toBe(400);
      expect(e.apiError).toMatchObject({ status: 400, code: 'json_too_deep' });
    }
  });
});

describe('message and content-part counts', () => {
  const limits = { messages: 3, content_parts: 4 };
  test('within limits passes', () => {
    expect(bodyShapeError({ messages: [{ role: 'user', content: [{}, {}] }, { role: 'user', content: [{}, {}] }] }, limits)).toBeUndefined();
    expect(bodyShapeError('x', limits)).toBeUndefined();
  });
  test('too many messages, parts or prompts is a 400 naming the limit', () => {
    expect(bodyShapeError({ messages: [1, 2, 3, 4] }, limits)?.body().error).toMatchObject({ code: 'too_many_messages', param: 'messages' });
    expect(bodyShapeError({ messages: [{ content: [1, 2, 3] }, { content: [4, 5] }] }, limits)?.message).toContain('5 content parts; the limit is 4');
    expect(bodyShapeError({ prompt: ['a', 'b', 'c', 'd'] }, limits)?.body().error.code).toBe('too_many_prompts');
  });
});

describe('client errors and server timeouts', () => {
  test('oversized heads are 431, slow requests 408, garbage 400, all OpenAI-shaped JSON', () => {
    expect(clientErrorResponse('HPE_HEADER_OVERFLOW').status).toBe(431);
    expect(clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT').status).toBe(408);
    const bad = clientErrorResponse('HPE_INVALID_METHOD');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'bad_request' } });
  });
  test('headersTimeout never exceeds requestTimeout, and timers are checked several times per timeout', () => {
    expect(httpServerOptions({ header_bytes: 8192, headers_timeout_ms: 30_000, request_timeout_ms: 10_000 })).toEqual({ maxHeaderSize: 8192, headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 1000, requireHostHeader: false });
    expect(httpServerOptions({ header_bytes: 8192, headers_timeout_ms: 400, request_timeout_ms: 1000 }).connectionsCheckingInterval).toBe(100);
  });
});

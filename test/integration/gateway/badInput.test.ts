import { startHarness, type Harness } from '../../support/gatewayHarness';

/** Every bad input gets a clear OpenAI-shaped error, never a crash or a stack trace; the gateway stays healthy. */
describe('bad input', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { limits: { body_bytes: 2048 } } });
  });
  afterAll(async () => h.close());

  const post = (path: string, body: string, contentType: string | null = 'application/json') =>
    fetch(`${h.gateway.url}${path}`, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });

  async function expectError(res: Response, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    expect(body.error.type).toBeTruthy();
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
    return body;
  }

  test('invalid JSON is a 400', async () => {
    await expectError(await post('/v1/chat/completions', '{"messages": [}'), 400, 'invalid_json');
  });

  test('a model that is not a model id is a 400 naming model: free text there would reach the audit log, spans and metric labels', async () => {
    for (const model of ['my card number is 4111 1111 1111 1111', 'x'.repeat(300), '-rm -rf', '']) {
      const refused = await expectError(await post('/v1/chat/completions', JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] })), 400, 'invalid_request');
      expect((refused.error as { param?: string | null }).param).toBe('model');
    }
    for (const model of ['meta-llama/Llama-3.1-405B-Instruct', 'llama3.1:405b', 'dev']) {
      expect((await post('/v1/chat/completions', JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }))).status).toBe(200);
    }
  });

  test('wrong content type is a 415', async () => {
    await expectError(await post('/v1/chat/completions', 'messages=hi', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    await expectError(await post('/v1/chat/completions', '{}', null), 415, 'unsupported_media_type');
  });

  test('missing or mistyped messages / prompt is a 400 naming the field', async () => {
    // A member left out is told in OpenAI's words (not the schema's "expected array, received undefined").
    const missing = await expectError(await post('/v1/chat/completions', JSON.stringify({ model: 'x' })), 400, 'missing_required_parameter');
    expect(missing.error).toMatchObject({ message: "Missing required parameter: 'messages'.", param: 'messages' });
    const missingPrompt = await expectError(await post('/v1/completions', JSON.stringify({ model: 'x' })), 400, 'missing_required_parameter');
    expect((missingPrompt.error as { param?: string }).param).toBe('prompt');
    // A nested member left out names its path.
    const missingRole = await expectError(await post('/v1/chat/completions', JSON.stringify({ messages: [{ content: 'x' }] })), 400, 'missing_required_parameter');
    expect((missingRole.error as { param?: string }).param).toBe('messages.0.role');
    await expectError(await post('/v1/chat/completions', JSON.stringify({ messages: 'hello' })), 400, 'invalid_request');
    await expectError(await post('/v1/chat/completions', JSON.stringify({ messages: [] })), 400, 'invalid_request');
    await expectError(await post('/v1/chat/completions', JSON.stringify({ messages: [{ role: 'wizard', content: 'x' }] })), 400, 'invalid_request');
    await expectError(await post('/v1/chat/completions', JSON.stringify([1, 2])), 400, 'invalid_request');
    const prompt = await expectError(await post('/v1/completions', JSON.stringify({ model: 'x', prompt: 42 })), 400, 'invalid_request');
    expect(prompt.error.message).toContain('prompt');
  });

  test('a body over the limit is a 413', async () => {
    const big = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    await expectError(await post('/v1/chat/completions', big), 413, 'request_too_large');
  });

  test('an unknown route is a 404 in OpenAI shape', async () => {
    await expectError(await fetch(`${h.gateway.url}/v1/nothing-here`), 404, 'not_found');
    await expectError(await fetch(`${h.gateway.url}/not-even-v1`, { method: 'DELETE' }), 404, 'not_found');
  });

  test('the gateway is still healthy and serving afterwards', async () => {
    expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200);
    const ok = await post('/v1/chat/completions', JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }));
    expect(ok.status).toBe(200);
  });
});

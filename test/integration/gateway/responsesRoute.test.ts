import { readEntries } from '../../../gateway/audit/auditQuery';
import { startHarness, type Harness } from '../../support/gatewayHarness';
import { addKey, tempKeysFile } from '../../support/keys';
import { startRealGateway, type RealGateway } from '../telemetry/realGateway';

/**
 * Issue 17, `POST /v1/responses` and `GET /v1/models/{id}` on a real gateway and dev engine: what
 * the route shares with chat (keys, rate limits counting the Responses fields, context length,
 * body limits, OpenAI-shaped errors, engine errors, the audit log) answered the same way.
 */
type Json = Record<string, any>;
const responses = (base: string, body: Json, key?: string) =>
  fetch(`${base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify({ model: 'dev', ...body }) });
const num = (res: Response, name: string) => Number(res.headers.get(name));

describe('responses route: keys, limits and errors as for chat', () => {
  let h: Harness;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    const file = tempKeysFile();
    keys.tpm = await addKey(file, 'tpm-app', ['--tpm', '100000']);
    keys.rpm = await addKey(file, 'rpm-app', ['--rpm', '1']);
    keys.tenantA = await addKey(file, 'shop');
    keys.tenantB = await addKey(file, 'shop');
    h = await startHarness({ config: { keys: { file }, limits: { messages: 4, context_tokens_by_model: { 'tiny-model': 64 } } } });
  });
  afterAll(async () => h.close());

  test("one key of an app cannot continue another key's conversation by its ids (each tenant its own key)", async () => {
    await h.script({ reply: 'Noted, Ada: your IBAN is on file.' });
    const first = (await (await responses(h.baseUrl, { input: 'I am Ada, IBAN DE44 5001 0517 5407 3249 31' }, keys.tenantA)).json()) as { id: string; output: { id: string }[] };
    const other = await responses(h.baseUrl, { input: 'and?', previous_response_id: first.id }, keys.tenantB);
    expect(other.status).toBe(400);
    expect(((await other.json()) as Json).error.code).toBe('previous_response_not_found');
    const reference = await responses(h.baseUrl, { input: [{ type: 'item_reference', id: first.output[0]!.id }, { role: 'user', content: 'go on' }] }, keys.tenantB);
    expect(reference.status).toBe(400);
    // The key that started it continues it.
    expect((await responses(h.baseUrl, { input: 'and?', previous_response_id: first.id }, keys.tenantA)).status).toBe(200);
  });

  test('without a key: 401 invalid_api_key', async () => {
    const res = await responses(h.baseUrl, { input: 'hi' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as Json).error.code).toBe('invalid_api_key');
  });

  test('tokens: the instructions, items and tools count in what is reserved; the rest is refunded from the usage', async () => {
    // Sequential requests: remaining = limit - (tokens the earlier ones used) - (this one's reservation).
    let usedSoFar = 0;
    const reserved = async (body: Json) => {
      const res = await responses(h.baseUrl, { max_output_tokens: 100, ...body }, keys.tpm);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
      const taken = 100_000 - usedSoFar - num(res, 'x-ratelimit-remaining-tokens');
      usedSoFar += ((await res.json()) as Json).usage.total_tokens as number;
      return taken;
    };
    const plain = await reserved({ input: 'hello' });
    expect(plain).toBeGreaterThan(100);
    const long = 'word '.repeat(300);
    for (const body of [{ input: 'hello', instructions: long }, { input: [{ role: 'user', content: 'hello' }, { type: 'function_call_output', call_id: 'c', output: long }] }, { input: 'hello', tools: [{ type: 'function', name: 'f', description: long }] }]) {
      expect((await reserved(body)) - plain).toBeGreaterThan(250);
    }
    // Each earlier request cost only its usage (input_tokens + output_tokens): the same request reserves the same again.
    expect(await reserved({ input: 'hello' })).toBe(plain);
  });

  test('requests per minute: the same headers and 429 as chat', async () => {
    expect((await responses(h.baseUrl, { input: 'hi' }, keys.rpm)).status).toBe(200);
    const refused = await responses(h.baseUrl, { input: 'hi' }, keys.rpm);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(((await refused.json()) as Json).error.code).toBe('rate_limit_exceeded');
  });

  test('context length: counted over the input, 400 context_length_exceeded naming input', async () => {
    const res = await responses(h.baseUrl, { model: 'tiny-model', input: 'word '.repeat(100) }, keys.tpm);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: 'context_length_exceeded', param: 'input' });
  });

  test('too many input items: 400 before any guard runs', async () => {
    const res = await responses(h.baseUrl, { input: Array.from({ length: 5 }, () => ({ role: 'user', content: 'hi' })) }, keys.tpm);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: 'too_many_messages', param: 'input' });
  });

  test('bad bodies: OpenAI-shaped errors, nothing forwarded', async () => {
    const before = h.engine.stats.requests;
    const invalidJson = await fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.tpm}` }, body: '{' });
    expect(invalidJson.status).toBe(400);
    expect(((await invalidJson.json()) as Json).error.code).toBe('invalid_json');
    const noInput = await responses(h.baseUrl, {}, keys.tpm);
    expect(noInput.status).toBe(400);
    expect(((await noInput.json()) as Json).error).toMatchObject({ type: 'invalid_request_error', param: 'input' });
    const badItem = await responses(h.baseUrl, { input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, keys.tpm);
    expect(((await badItem.json()) as Json).error).toMatchObject({ param: 'input[0].call_id' });
    expect(h.engine.stats.requests).toBe(before);
  });

  test('stored-response routes are not relayed: the engine keeps nothing the gateway has not checked', async () => {
    const auth = { authorization: `Bearer ${keys.tpm}` };
    for (const [method, route] of [['GET', '/responses/resp_1'], ['GET', '/responses/resp_1/input_items'], ['DELETE', '/responses/resp_1'], ['POST', '/responses/resp_1/cancel']]) {
      const res = await fetch(`${h.baseUrl}${route}`, { method, headers: auth });
      expect(res.status).toBe(404);
      expect(((await res.json()) as Json).error.code).toBe('not_found');
    }
  });

  test("the engine's own 4xx reaches the client in OpenAI's shape with its status", async () => {
    await h.script({ status: 422 });
    const res = await responses(h.baseUrl, { input: 'hi' }, keys.tpm);
    expect(res.status).toBe(422);
    expect(((await res.json()) as Json).error.type).toBe('invalid_request_error');
  });

  test('GET /v1/models/{id}: the entry, or 404 model_not_found, behind the same key check', async () => {
    const auth = { authorization: `Bearer ${keys.tpm}` };
    const found = await fetch(`${h.baseUrl}/models/dev-llama-3.1-405b-stand-in`, { headers: auth });
    expect(found.status).toBe(200);
    expect(await found.json()).toEqual({ id: 'dev-llama-3.1-405b-stand-in', object: 'model', created: 1_700_000_000, owned_by: 'safety-gateway-dev' });
    expect(found.headers.get('x-safety-verdict')).toBe('allow');
    const missing = await fetch(`${h.baseUrl}/models/meta-llama/Nope`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { message: expect.stringContaining('meta-llama/Nope'), type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
    expect(missing.headers.get('x-safety-verdict')).toBe('none');
    expect((await fetch(`${h.baseUrl}/models/dev-llama-3.1-405b-stand-in`)).status).toBe(401);
  });
});

describe('responses route: the audit log and an engine that is down', () => {
  let gw: RealGateway;
  beforeAll(async () => {
    gw = await startRealGateway();
  });
  afterAll(async () => gw?.close());

  test('every decision is in the audit log: allowed, blocked input, blocked answer, with usage in tokens', async () => {
    await gw.script({ reply: 'A fine answer.' });
    expect((await responses(gw.baseUrl, { input: 'hello' })).status).toBe(200);
    expect((await responses(gw.baseUrl, { input: 'zzjailbreak now' })).status).toBe(400);
    await gw.script({ reply: 'how to zzs1' });
    expect(((await (await responses(gw.baseUrl, { input: 'story', stream: true })).text()).match(/response\.incomplete/g) ?? []).length).toBeGreaterThan(0);
    const entries = readEntries(gw.auditDir).entries.slice(-3);
    expect(entries.map((e) => [e.route, e.action, e.status])).toEqual([
      ['/v1/responses', 'allow', 200],
      ['/v1/responses', 'block', 400],
      ['/v1/responses', 'block', 200],
    ]);
    expect(entries[0].engine).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
  });

  test('models by id when the engine is down: 503 engine_unavailable, not a 404', async () => {
    await gw.engine.close();
    const res = await fetch(`${gw.baseUrl}/models/dev-llama-3.1-405b-stand-in`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).error.code).toBe('engine_unavailable');
    const answer = await responses(gw.baseUrl, { input: 'hello' });
    expect(answer.status).toBe(503);
    expect(((await answer.json()) as Json).error.code).toBe('engine_unavailable');
  });
});

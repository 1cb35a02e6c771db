import { startHarness, type Harness } from '../../support/gatewayHarness';

describe('routes and headers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  test('request bodies reach the engine as sent; a field the gateway does not know is refused, never forwarded', async () => {
    const body = {
      model: 'dev',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      seed: 7,
      top_k: 3,
    };
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    expect(h.engine.requests[h.engine.requests.length - 1]).toEqual(body);
    const before = h.engine.stats.requests;
    const unknown = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, vendor_extension: { x: 1 } }) });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: 'unsupported_parameter', param: 'vendor_extension' });
    expect(h.engine.stats.requests).toBe(before);
  });

  test('every answer carries the safety headers, errors included', async () => {
    const answers = [
      await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) }),
      await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
      await fetch(`${h.baseUrl}/models`),
      await fetch(`${h.baseUrl}/unknown`),
    ];
    // A refusal before any guard ran (invalid JSON, an unknown route) was judged by none: `none`, not `allow`.
    expect(answers.map((res) => res.headers.get('x-safety-verdict'))).toEqual(['allow', 'none', 'allow', 'none']);
    for (const res of answers) {
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(res.headers.get('x-safety-policy')).toMatch(/^fixture@/);
      expect(res.headers.get('x-gateway-overhead-ms')).toMatch(/^\d+(\.\d+)?$/);
      expect(res.headers.get('x-guard-duration-ms')).toMatch(/^\d+(\.\d+)?$/);
    }
  });

  test("the gateway issues its own request id; a client's id is kept apart, labelled, and never echoed as the gateway's", async () => {
    const ask = (headers: Record<string, string>) =>
      fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hi' }] }) });
    const first = await ask({ 'x-request-id': 'client-123' });
    const second = await ask({ 'x-request-id': 'client-123' });
    const ids = [first.headers.get('x-request-id'), second.headers.get('x-request-id')];
    expect(ids[0]).toMatch(/^req_[0-9a-f]{32}$/);
    expect(ids[1]).toMatch(/^req_[0-9a-f]{32}$/);
    expect(ids[0]).not.toBe(ids[1]);
    const records = h.recorder.records.slice(-2);
    expect(records.map((r) => [r.requestId, r.clientRequestId])).toEqual([
      [ids[0], 'client-123'],
      [ids[1], 'client-123'],
    ]);
    // OpenAI's x-client-request-id is the preferred name; a hostile value is dropped, not recorded.
    const named = await ask({ 'x-client-request-id': 'trace-77', 'x-request-id': 'other' });
    expect(named.headers.get('x-request-id')).toMatch(/^req_/);
    expect(h.recorder.records[h.recorder.records.length - 1].clientRequestId).toBe('trace-77');
    const bad = await ask({ 'x-request-id': 'a b <script>' });
    expect(bad.headers.get('x-request-id')).toMatch(/^req_/);
    expect(h.recorder.records[h.recorder.records.length - 1].clientRequestId).toBeUndefined();
  });

  test('routes the policy lists pass through unguarded; other /v1 routes are refused', async () => {
    const passed = await fetch(`${h.baseUrl}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'x' }) });
    // The dev engine has no embeddings: its own 404 proves the request reached it.
    expect(passed.headers.get('x-safety-passthrough')).toBe('true');
    expect(((await passed.json()) as { error: { message: string } }).error.message).toContain('no route POST /v1/embeddings');
    const refused = await fetch(`${h.baseUrl}/files`);
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  test('readyz reports policy, guards and engine', async () => {
    const res = await fetch(`${h.gateway.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; policy: string; guards: string[] };
    expect(body.status).toBe('ready');
    expect(body.guards).toEqual(['prompt_guard', 'llama_guard']);
  });

  test('input guards scan every message, content part and tool-call argument', async () => {
    const messages = [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: [{ type: 'text', text: 'look at this' }, { type: 'text', text: 'and this' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'fetch', arguments: '{"url":"x"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'page text zzinject hidden instruction' },
    ];
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { safety: { rule_id: string; label: string } } };
    expect(body.error.safety.rule_id).toBe('indirect-injection');
    const record = h.recorder.records[h.recorder.records.length - 1];
    const injection = record.input!.verdicts.find((v) => v.ruleId === 'indirect-injection')!.verdict;
    expect(injection.worstPath).toBe('messages[3].content');
    expect(injection.segmentsScanned).toBeGreaterThanOrEqual(2); // the tool result and the tool-call arguments
  });
});

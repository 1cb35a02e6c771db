import fc from 'fast-check';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { problemsWith } from './sseCheck';

/**
 * Property: whatever a client sends, the gateway answers valid JSON or well-formed SSE, never 500,
 * keeps serving, and leaves exactly one record per request (a decision, or a refusal of its own
 * kind), under the request id the client got. FUZZ_REQUESTS sets the count (300 in npm test;
 * `FUZZ_REQUESTS=10000 npm run test:fuzz` for the long run).
 */
const RUNS = Number(process.env.FUZZ_REQUESTS ?? 300);

describe('fuzz: request bodies', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { limits: { body_bytes: 64 * 1024, messages: 64, content_parts: 64, json_depth: 32 } } });
  });
  afterAll(async () => h.close());

  /** Mostly plausible values, sometimes anything: the interesting bugs live near valid requests. */
  const mostly = <T>(usual: fc.Arbitrary<T>, weird: fc.Arbitrary<unknown> = fc.anything()) => fc.oneof({ arbitrary: usual, weight: 8 }, { arbitrary: weird, weight: 1 });
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('zzjailbreak now', 'zzs1 bad', '', '\u0000', '\ud800', '<|eot_id|>', '😀'.repeat(5)));
  const part = mostly(fc.oneof(fc.record({ type: fc.constant('text'), text }), fc.record({ type: fc.constantFrom('image_url', 'input_audio'), image_url: fc.record({ url: fc.string() }) })));
  const message = fc.record(
    {
      role: mostly(fc.constantFrom('system', 'developer', 'user', 'user', 'user', 'assistant', 'tool'), fc.string({ maxLength: 8 })),
      content: mostly(fc.oneof(text, fc.array(part, { maxLength: 4 }), fc.constant(null))),
      name: fc.string({ maxLength: 8 }),
      tool_calls: fc.array(fc.record({ id: fc.string(), type: fc.constant('function'), function: fc.record({ name: fc.string({ maxLength: 8 }), arguments: fc.string({ maxLength: 20 }) }) }), { maxLength: 2 }),
      tool_call_id: fc.string({ maxLength: 8 }),
    },
    { requiredKeys: ['role', 'content'] },
  );
  const chatBody = fc.record(
    {
      model: mostly(fc.constantFrom('dev', 'llama-3.1-405b')),
      messages: mostly(fc.array(message, { minLength: 1, maxLength: 5 })),
      stream: mostly(fc.boolean()),
      max_tokens: mostly(fc.integer({ min: 1, max: 300 }), fc.oneof(fc.integer({ min: -5, max: 500_000 }), fc.constant(null))),
      n: fc.integer({ min: 1, max: 2 }),
      stream_options: mostly(fc.record({ include_usage: fc.boolean() })),
      temperature: fc.double(),
      tools: fc.array(fc.record({ type: fc.constant('function'), function: fc.record({ name: fc.string({ maxLength: 8 }), parameters: fc.object({ maxDepth: 3 }) }) }), { maxLength: 2 }),
    },
    { requiredKeys: ['messages'] },
  );
  const completionBody = fc.record({ model: fc.constant('dev'), prompt: mostly(fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }))), stream: fc.boolean(), max_tokens: fc.integer({ min: 1, max: 300 }) }, { requiredKeys: ['prompt'] });
  const junk = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.integer({ min: 1, max: 60 }).map((d) => `{"messages":${'['.repeat(d)}${']'.repeat(d)}}`),
  );
  const contentType = fc.oneof(
    { arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8'), weight: 8 },
    { arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/json; charset=nope'), weight: 1 },
  );
  const request = fc.oneof(
    { arbitrary: fc.record({ path: fc.constant('/v1/chat/completions'), body: chatBody.map((b) => JSON.stringify(b)), contentType }), weight: 6 },
    { arbitrary: fc.record({ path: fc.constant('/v1/completions'), body: completionBody.map((b) => JSON.stringify(b)), contentType }), weight: 2 },
    { arbitrary: fc.record({ path: fc.constantFrom('/v1/chat/completions', '/v1/completions'), body: junk, contentType }), weight: 1 },
  );
  const statuses = new Map<number, number>();

  test('every answer is valid JSON or well-formed SSE, never a 500, and every request is recorded once', async () => {
    let sent = 0;
    const unrecorded: string[] = [];
    await fc.assert(
      fc.asyncProperty(request, async ({ path, body, contentType }) => {
        const res = await fetch(`${h.gateway.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const answer = { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
        const problems = problemsWith(answer);
        if (problems.length) throw new Error(`${problems.join('; ')}\nstatus ${answer.status}: ${answer.body.slice(0, 300)}`);
        const id = res.headers.get('x-request-id') ?? '';
        const records = h.recorder.records.filter((r) => r.requestId === id).length + h.recorder.rejections.filter((r) => r.requestId === id).length;
        if (records !== 1) unrecorded.push(`${answer.status} ${id}: ${records} records`);
      }),
      { numRuns: RUNS },
    );
    expect(unrecorded).toEqual([]);
    // The property means little unless many requests got through to the engine: about a quarter
    // do (374 of 1,500 measured), so an eighth is a bound random draws never miss (RUNS / 5 was two
    // standard deviations from the mean at 300 runs, and failed a CI run with 57).
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS / 8);
    expect(sent).toBeGreaterThanOrEqual(RUNS);
    expect((await fetch(`${h.gateway.url}/healthz`)).status).toBe(200);
  }, Math.max(120_000, RUNS * 100));
});

import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../engine/devEngine/server';
import { readAllEntries } from '../../gateway/audit/auditQuery';
import { GatewayConfig } from '../../gateway/config';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { bufferMode, defaultPolicyWithFixtureModels, offMode, windowMode } from '../bypass/support';
import { problemsWith } from './sseCheck';

/**
 * Issue 13 target: 1,000 malformed engine streams and whole answers (generated), through the real
 * gateway with the real audit log (in a temp dir): 0 crashes, 0 500s, every answer well-formed
 * JSON or SSE, one audit record per request, and, where answers are checked (buffer and window
 * modes), the unsafe text the engine hid anywhere in them (zzs11) never reaches the client.
 */
const UNSAFE = 'zzs11';
const RUNS_PER_MODE = 340;

const text = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('Hello', ' world', '.', ' ok', '') }, { weight: 1, arbitrary: fc.constant(` ${UNSAFE}`) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
const envelope = { id: 'chatcmpl-f', object: 'chat.completion.chunk', created: 1, model: 'dev' };

/** A delta as engines send them, or one of the ways they get it wrong. */
const delta = fc.oneof(
  { weight: 6, arbitrary: text.map((content) => ({ content })) },
  { weight: 1, arbitrary: text.map((reasoning_content) => ({ reasoning_content })) },
  { weight: 1, arbitrary: text.map((refusal) => ({ refusal })) },
  { weight: 1, arbitrary: text.map((args) => ({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: args } }] })) },
  { weight: 1, arbitrary: text.map((args) => ({ function_call: { arguments: args } })) },
  { weight: 1, arbitrary: text.map((t) => ({ content: [{ type: 'text', text: t }] })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ tool_calls: {} }, { tool_calls: [null] }, { content: 42 }, 'text', null, [], { [UNSAFE]: true }) },
);
const goodChunk = fc.record({ delta, logprobToken: fc.option(text, { freq: 4 }), extra: fc.option(fc.constant({ stop_reason: UNSAFE }), { freq: 8 }) }).map(({ delta, logprobToken, extra }) =>
  JSON.stringify({ ...envelope, choices: [{ index: 0, delta, logprobs: logprobToken === null ? null : { content: [{ token: logprobToken, logprob: -1, top_logprobs: [] }] }, finish_reason: null, ...(extra ?? {}) }] }),
);
const badEvent = fc.constantFrom(
  'data: null',
  'data: 42',
  'data: "zzs11"',
  'data: []',
  'data: ',
  `data: {"error":{"message":"${UNSAFE}"}}`,
  `data: {"id":"x","note":"${UNSAFE}"}`,
  'data: {"choices": 7}',
  `data: {"choices":[{"index":"0","delta":{"content":"${UNSAFE}"}}]}`,
  `data: {"choices":[{"delta":{"content":"${UNSAFE}`,
  `: ${UNSAFE}`,
  `event: error\ndata: {"error":"${UNSAFE}"}`,
  `id: ${UNSAFE}`,
);
const stream = fc.record({
  events: fc.array(fc.oneof({ weight: 6, arbitrary: goodChunk.map((c) => `data: ${c}`) }, { weight: 1, arbitrary: badEvent }), { maxLength: 10 }),
  usage: fc.boolean(),
  done: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
}).map(({ events, usage, done }) => [
  ...events,
  `data: ${JSON.stringify({ ...envelope, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}`,
  ...(usage ? [`data: ${JSON.stringify({ ...envelope, choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })}`] : []),
  ...(done ? ['data: [DONE]'] : []),
]);

/** Whole answers: near-valid ones with one member wrong or hiding the unsafe text, and arbitrary JSON. */
const message = fc.oneof(
  text.map((content) => ({ role: 'assistant', content })),
  text.map((t) => ({ role: 'assistant', content: 'ok', reasoning_content: t })),
  text.map((t) => ({ role: 'assistant', content: null, refusal: t })),
  text.map((t) => ({ role: 'assistant', content: null, function_call: { name: 'f', arguments: t } })),
  fc.constantFrom<unknown>({ role: 'assistant', tool_calls: {} }, { role: 'assistant', tool_calls: [null] }, { content: 42 }, null, 'text', { content: [{ text: UNSAFE }] }),
);
const whole = fc.oneof(
  { weight: 4, arbitrary: fc.record({ message, extra: fc.option(fc.constant({ [UNSAFE]: 1 }), { freq: 6 }) }).map(({ message, extra }) => ({ id: 'c', object: 'chat.completion', created: 1, model: 'dev', choices: [{ index: 0, message, finish_reason: 'stop', ...(extra ?? {}) }] })) },
  { weight: 1, arbitrary: fc.jsonValue() },
);
const answer = fc.oneof({ weight: 3, arbitrary: stream.map((events) => ({ stream: true as const, events })) }, { weight: 2, arbitrary: whole.map((json) => ({ stream: false as const, json })) });

describe.each([
  ['buffer', bufferMode, true],
  ['window', windowMode(2), true],
  ['off', offMode, false],
] as const)('fuzz: malformed engine answers (%s mode), real audit log', (_mode, edit, checked) => {
  let engine: DevEngine;
  let gateway: RunningGateway;
  let auditDir: string;
  beforeAll(async () => {
    engine = await startDevEngine();
    auditDir = mkdtempSync(path.join(tmpdir(), 'sg-fuzz-audit-'));
    const config = GatewayConfig.parse({ port: 0, policy: defaultPolicyWithFixtureModels(edit), engine: { url: engine.baseUrl }, audit: { dir: auditDir, fsync: 'interval' } });
    gateway = await startGateway({ config, watchPolicies: false });
  });
  afterAll(async () => {
    await gateway.shutdown(1000);
    await engine.close();
    rmSync(auditDir, { recursive: true, force: true });
  });

  test(`${RUNS_PER_MODE} answers: well-formed, no 500, one audit record each${checked ? ', the unsafe text never delivered' : ''}`, async () => {
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        const script = a.stream ? { raw_events: a.events } : { raw_json: a.json };
        const scripted = await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(script) });
        if (!scripted.ok) throw new Error(`script rejected: ${await scripted.text()}`);
        const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: a.stream, messages: [{ role: 'user', content: 'go' }] }) });
        const reply = { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
        sent++;
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        const problems = problemsWith(reply);
        if (checked && reply.body.includes(UNSAFE)) problems.push('the unsafe text reached the client');
        if (problems.length) throw new Error(`${problems.join('; ')}\nengine: ${JSON.stringify(script).slice(0, 300)}\n-> ${reply.status}: ${reply.body.slice(0, 300)}`);
      }),
      { numRuns: RUNS_PER_MODE },
    );
    // The audit log holds one record per request: decisions are recorded before the last byte goes out.
    const { entries, unreadable } = readAllEntries(auditDir);
    expect({ records: entries.length, unreadable }).toEqual({ records: sent, unreadable: 0 });
    expect(statuses.get(500)).toBeUndefined();
    // Both outcomes happen: answers pass (or are blocked) and malformed ones are rejected.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS_PER_MODE / 10);
    expect(statuses.get(502) ?? 0).toBeGreaterThan(RUNS_PER_MODE / 10);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  }, 120_000);
});

import { isUtf8 } from 'node:buffer';
import OpenAI, { APIError } from 'openai';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, chatAnswer, chatEvents, defaultPolicyWithFixtureModels, offMode, responseStream, ssePayloads, windowMode } from './support';

/**
 * Issue 13: engine answers the gateway cannot read are never relayed. A stream event without
 * choices, `data: null`, `data: 42`, an `error` member or invalid JSON ends the stream with an
 * OpenAI error event and `[DONE]` once bytes went out (window and off modes), or fails the request
 * with 502 engine_error before that (buffer mode). A malformed whole answer is a 502, as is one
 * over the size cap, and so is bookkeeping (finish_reason, role, model, usage) that is not an
 * identifier or a count. The unsafe text they carry (zzs11) never reaches the client, and every
 * request leaves one record.
 */
const UNSAFE = 'zzs11';
const BAD_EVENTS: [string, string][] = [
  ['an event without choices', `data: {"id":"x","object":"chat.completion.chunk","note":"${UNSAFE}"}`],
  ['data: null', 'data: null'],
  ['data: 42', 'data: 42'],
  ['an error event', `data: {"error":{"message":"${UNSAFE}","type":"server_error"}}`],
  ['invalid JSON', `data: {"choices":[{"delta":{"content":"${UNSAFE}`],
  ['choices of the wrong type', `data: {"choices":{"0":{"delta":{"content":"${UNSAFE}"}}}}`],
  ['a delta of the wrong type', `data: {"choices":[{"index":0,"delta":"${UNSAFE}"}]}`],
  // A string `message` beside the delta: read as a message, it was checked a character at a time.
  ['a message string in a chunk', `data: {"choices":[{"index":0,"delta":{"content":" ok"},"message":"Here: ${UNSAFE}"}]}`],
  // The guards read the last of two members; a client whose parser keeps the first would show the other.
  ['a member named twice', `data: {"choices":[{"index":0,"delta":{"content":" ${UNSAFE}","content":" ok"}}]}`],
  // Bookkeeping is relayed unchecked, so it must be identifiers and counts, never words.
  ['words as finish_reason', `data: {"choices":[{"index":0,"delta":{},"finish_reason":"${UNSAFE} said so"}]}`],
  ['words as the role', `data: {"choices":[{"index":0,"delta":{"role":"${UNSAFE} said so"}}]}`],
  ['words as the model', `data: {"model":"${UNSAFE} said so","choices":[{"index":0,"delta":{"content":"x"}}]}`],
  ['words in usage', `data: {"choices":[],"usage":{"prompt_tokens":1,"note":"${UNSAFE} said so"}}`],
  // Clients file a choice without its index apart (the openai SDKs under `undefined`); tool-call pieces with and without one, each client its own way.
  ['a choice without its index', `data: {"choices":[{"delta":{"content":"${UNSAFE}"}}]}`],
  ['tool-call pieces with and without an index', `data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"type":"function","function":{"name":"f","arguments":"{}"}},{"type":"function","function":{"arguments":"${UNSAFE}"}}]}}]}`],
];
const streamBody = JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] });

/** Harmless chunks first (so window and off modes have released bytes), then the bad event, then more. */
const eventsWith = (bad: string) => {
  const events = chatEvents([{ content: 'One' }, { content: ' two' }, { content: ' three' }, { content: ' four' }]);
  return [...events.slice(0, 4), bad, ...events.slice(4)];
};

describe.each([
  ['window', windowMode(2)],
  ['off', offMode],
])('bypass: malformed stream events after the first bytes (%s mode)', (_mode, edit) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
  });
  afterAll(async () => h.close());

  test.each(BAD_EVENTS)('%s ends the stream with an error event and [DONE]', async (_name, bad) => {
    await h.script({ raw_events: eventsWith(bad) });
    const before = h.recorder.records.length;
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(UNSAFE);
    const payloads = ssePayloads(text);
    expect(payloads[payloads.length - 1]).toBe('[DONE]');
    expect(JSON.parse(payloads[payloads.length - 2])).toMatchObject({ error: { type: 'api_error', code: 'engine_error' } });
    // Nothing of what came after the bad event either.
    expect(text).not.toContain(' four');
    expect(h.recorder.records.length).toBe(before + 1);
    expect(h.recorder.records[before]).toMatchObject({ status: 502, error: { type: 'engine_error' } });
    // What the engine sent before the failure (some of it already with the client) is on the record.
    expect(h.recorder.records[before].content?.output.join('')).toContain('One two');
    expect(h.recorder.records[before].engine).toBeDefined();
  });

  test('the openai client raises an APIError on the error event', async () => {
    await h.script({ raw_events: eventsWith('data: 42') });
    const client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] });
    const err = await (async () => {
      for await (const _ of stream) {
        /* read */
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
  });
});

describe('bypass: malformed answers before any byte went out (buffer mode, not streamed)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(bufferMode), config: { engine: { max_answer_bytes: 64 * 1024 } } });
  });
  afterAll(async () => h.close());

  async function expect502(res: Response) {
    expect(res.status).toBe(502);
    // The engine answered (and generated): the openai SDKs must not run the generation again on their own.
    expect(res.headers.get('x-should-retry')).toBe('false');
    const text = await res.text();
    expect(text).not.toContain(UNSAFE);
    expect(JSON.parse(text)).toMatchObject({ error: { type: 'api_error', code: 'engine_error' } });
  }

  test.each(BAD_EVENTS)('streamed, %s: 502 engine_error, nothing relayed', async (_name, bad) => {
    await h.script({ raw_events: eventsWith(bad) });
    await expect502(await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody }));
  });

  test("a malformed answer's member names (the engine chooses them) stay out of the record, which names the cause in fixed words", async () => {
    await h.script({ raw_json: { ...chatAnswer({ content: 'Fine.' }), usage: { prompt_tokens: 1, patient_john_doe_SECRET: 'hiv positive' } } });
    await expect502(await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) }));
    const record = h.recorder.records.at(-1)!;
    expect(record.error?.message).toContain('(an answer the gateway cannot read)');
    expect(JSON.stringify(record.error)).not.toContain('SECRET');
  });

  test('streamed, a stream that ends cleanly without [DONE] (as an engine ignoring stream: true does every time): 502, not retried by the SDKs', async () => {
    await h.script({ raw_events: chatEvents([{ content: 'One' }, { content: ' two' }]).slice(0, -1) });
    await expect502(await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody }));
  });

  test('streamed, answers beyond the n asked for: 502 engine_error; as many as asked: relayed', async () => {
    const chunk = (index: number, content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [{ index, delta: { role: 'assistant', content }, finish_reason: 'stop' }] })}`;
    const three = [chunk(0, 'One.'), chunk(1, 'Two.'), chunk(2, 'Three.'), 'data: [DONE]'];
    await h.script({ raw_events: three });
    await expect502(await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, n: 2, messages: [{ role: 'user', content: 'go' }] }) }));
    await h.script({ raw_events: three });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, n: 3, messages: [{ role: 'user', content: 'go' }] }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Three.');
  });

  test.each([
    ['tool_calls: {}', chatAnswer({ content: UNSAFE, tool_calls: {} })],
    ['tool_calls: [null]', chatAnswer({ content: UNSAFE, tool_calls: [null] })],
    ['content: 42', chatAnswer({ content: 42, refusal: UNSAFE })],
    ['arguments an object', chatAnswer({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { text: UNSAFE } } }] })],
    ['choices missing', { id: 'x', object: 'chat.completion', note: UNSAFE }],
    ['words as finish_reason', { ...chatAnswer({ content: 'Fine.' }), choices: [{ index: 0, finish_reason: `${UNSAFE} said so`, message: { role: 'assistant', content: 'Fine.' } }] }],
    ['words in usage', { ...chatAnswer({ content: 'Fine.' }), usage: { prompt_tokens: 1, [`${UNSAFE} said so`]: 2 } }],
    ['an error body with status 200', { error: { message: UNSAFE } }],
    ['null', null],
    // Each answer costs a guard run and reaches the client: only those asked for (n unset: one).
    ['a second answer nobody asked for', { ...chatAnswer({ content: 'Fine.' }), choices: [0, 1].map((index) => ({ index, message: { role: 'assistant', content: index ? UNSAFE.slice(0, 2) : 'Fine.' }, finish_reason: 'stop' })) }],
  ])('not streamed, %s: 502 engine_error, never a 500', async (_name, answer) => {
    await h.script({ raw_json: answer });
    const before = h.recorder.records.length;
    await expect502(await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) }));
    expect(h.recorder.records.length).toBe(before + 1);
  });

  test.each([
    ['a member named twice', `{"id":"x","object":"chat.completion","created":1,"model":"dev","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"${UNSAFE}","content":"Fine."}}]}`],
    ['a string delta in a whole answer', `{"id":"x","object":"chat.completion","created":1,"model":"dev","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Fine."},"delta":"${UNSAFE} here"}]}`],
  ])('not streamed, %s: 502 engine_error', async (_name, body) => {
    await h.script({ raw_body: body });
    const before = h.recorder.records.length;
    await expect502(await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) }));
    expect(h.recorder.records.length).toBe(before + 1);
  });

  test('not streamed, bytes that are not UTF-8: the client gets what the guards read (U+FFFD), never the raw bytes', async () => {
    const head = Buffer.from('{"id":"x","object":"chat.completion","created":1,"model":"dev","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Fine');
    const tail = Buffer.from('."}}]}');
    // An overlong "/" (c0 af), a stray ff and an encoded surrogate (ed a0 80): decoders differ on them.
    const body = Buffer.concat([head, Buffer.from([0xc0, 0xaf, 0xff, 0xed, 0xa0, 0x80]), tail]);
    await h.script({ raw_body_base64: body.toString('base64') });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) });
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(isUtf8(bytes)).toBe(true);
    expect(bytes.includes(Buffer.from([0xc0, 0xaf]))).toBe(false);
    const content = (JSON.parse(bytes.toString('utf8')) as { choices: { message: { content: string } }[] }).choices[0].message.content;
    expect(content).toBe(`Fine${Buffer.from([0xc0, 0xaf, 0xff, 0xed, 0xa0, 0x80]).toString('utf8')}.`);
    expect(content).toMatch(/^Fine\uFFFD+\.$/);
  });

  test('an answer over engine.max_answer_bytes is a 502, streamed or not', async () => {
    const big = 'word '.repeat(20_000);
    await h.script({ raw_json: chatAnswer({ content: big }) });
    await expect502(await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) }));
    await h.script({ raw_events: chatEvents(Array.from({ length: 2000 }, () => ({ content: 'word word word ' }))) });
    await expect502(await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody }));
  });
});

/**
 * Bookkeeping with a closed vocabulary (finish_reason, role, part and tool-call types): an
 * identifier the engines never send is read as text, so hyphen-joined words are checked like an
 * answer's (the schema refuses only what is no identifier at all).
 */
describe('bypass: words joined by hyphens in bookkeeping are read (window mode)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(2)) });
  });
  afterAll(async () => h.close());

  const WORDS = `${UNSAFE}-said-so`;
  test.each([
    ['finish_reason', { finish_reason: WORDS }],
    ['role', { message: { role: WORDS, content: 'Fine.' } }],
    ['a content part type', { message: { role: 'assistant', content: [{ type: WORDS, text: 'Fine.' }] } }],
    ['a tool call type', { message: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: WORDS, function: { name: 'f', arguments: '{}' } }] } }],
  ])('a whole answer with them in %s is blocked; with the usual values it passes', async (_name, patch) => {
    const answer = (extra: Record<string, unknown>) => ({
      id: 'chatcmpl-b',
      object: 'chat.completion',
      created: 1,
      model: 'dev',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Fine.' }, finish_reason: 'stop', ...extra }],
    });
    await h.script({ raw_json: answer(patch) });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) });
    const text = await res.text();
    expect(text).not.toContain(UNSAFE);
    expect(res.headers.get('x-safety-verdict')).toBe('block');
    await h.script({ raw_json: answer({}) });
    const ok = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-safety-verdict')).toBe('allow');
  });

  // An id keeps up to two words after its prefix unread (vLLM's chatcmpl-<request id>): a phrase of more is read.
  const PHRASE = `you-are-${UNSAFE}-said-so`;
  test.each([
    ['id', { id: PHRASE }],
    ['model', { model: WORDS }],
    ['system_fingerprint', { system_fingerprint: PHRASE }],
    ['service_tier', { service_tier: WORDS }],
    ['object', { object: WORDS }],
    ['a usage member name', { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, [WORDS]: 0 } }],
  ])('a whole answer with them in its %s is blocked, and its refusal does not repeat them', async (_name, patch) => {
    const answer = { id: 'chatcmpl-b1', object: 'chat.completion', created: 1, model: 'dev', choices: [{ index: 0, message: { role: 'assistant', content: 'Fine.' }, finish_reason: 'stop' }], ...patch };
    await h.script({ raw_json: answer });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) });
    const text = await res.text();
    expect(res.headers.get('x-safety-verdict')).toBe('block');
    expect(text).not.toContain(UNSAFE);
    expect(JSON.parse(text)).toMatchObject({ object: 'chat.completion', model: 'dev', choices: [{ finish_reason: 'content_filter' }] });
  });

  test.each([
    ['model', { model: WORDS }],
    ['id', { id: PHRASE }],
    ['system_fingerprint', { system_fingerprint: PHRASE }],
  ])('a stream whose every chunk carries them in its %s sends none of them; its usage chunk neither', async (_name, patch) => {
    const events = chatEvents([{ content: 'One' }, { content: ' two' }]).map((e) => (e.startsWith('data: {') ? `data: ${JSON.stringify({ ...JSON.parse(e.slice(6)), ...patch })}` : e));
    const usage = `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }, ...patch })}`;
    await h.script({ raw_events: [...events.slice(0, -1), usage, 'data: [DONE]'] });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] }) });
    const text = await res.text();
    expect(text).not.toContain(UNSAFE);
    expect(text).toContain('content_filter');
  });

  test('a stream whose last chunk says it in finish_reason never sends it', async () => {
    const events = chatEvents([{ content: 'One' }, { content: ' two' }]);
    const last = `data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"dev","choices":[{"index":0,"delta":{},"finish_reason":"${WORDS}"}]}`;
    await h.script({ raw_events: [...events.filter((e) => !e.includes('[DONE]') && !e.includes('"finish_reason":"stop"')), last, 'data: [DONE]'] });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody });
    const text = await res.text();
    expect(text).not.toContain(UNSAFE);
    expect(text).toContain('content_filter');
  });
});

/**
 * An engine event spread over several `data:` lines beside another field (`event:`, `id:`) is not
 * relayed byte for byte but rewritten: every line of its data keeps its `data:` prefix, so the
 * client reads the whole JSON document (the openai SDK failed on the half it got).
 */
describe.each([
  ['window', windowMode(2)],
  ['buffer', bufferMode],
])('an event over several data lines (%s mode)', (_mode, edit) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
  });
  afterAll(async () => h.close());

  /** The event with `field` added and its JSON over two `data:` lines (cut before `"delta"`). */
  const split = (event: string, field: string) => {
    const lines = event.split('\n');
    const json = lines.pop()!.replace(/^data: /, '');
    const cut = json.indexOf('"delta"');
    return [...lines, field, `data: ${json.slice(0, cut)}`, `data: ${json.slice(cut)}`].join('\n');
  };

  test('chat: the openai client reads every chunk', async () => {
    const events = chatEvents([{ content: 'Hello' }, { content: ' world' }]);
    await h.script({ raw_events: events.map((e, i) => (i === 1 || i === 2 ? split(e, 'event: message') : e)) });
    const client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello world');
  });

  test('responses: the openai client reads every event', async () => {
    const events = responseStream(
      [
        { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hello' },
        { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: ' world' },
      ],
      [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello world', annotations: [] }] }],
    );
    await h.script({ raw_events: events.map((e, i) => (i === 1 || i === 2 ? split(e, `id: ${i}`) : e)) });
    const client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.responses.create({ model: 'dev', stream: true, input: 'go' });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    expect(text).toBe('Hello world');
  });
});

describe.each([
  ['buffer', bufferMode],
  ['window', windowMode(2)],
  ['off', offMode],
])('an engine writing [DONE] with more than one space or a tab after `data:` (%s mode)', (_mode, edit) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
  });
  afterAll(async () => h.close());

  test.each([['two spaces', 'data:  [DONE]'], ['a tab', 'data:\t[DONE]']])('%s: relayed as `data: [DONE]`, so the openai client ends the stream instead of failing on it', async (_name, done) => {
    const events = chatEvents([{ content: 'Hello' }, { content: ' world' }]);
    await h.script({ raw_events: [...events.slice(0, -1), done] });
    const client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello world');
    expect(h.recorder.records[h.recorder.records.length - 1]).toMatchObject({ status: 200, action: 'allow' });
  });
});

import OpenAI from 'openai';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, chatAnswer, chatEvents, defaultPolicyWithFixtureModels, responseAnswer, responseStream, windowMode } from './support';

/**
 * Text the client joins that the gateway must read joined. The unsafe marker (zzs11 for the
 * fixture models) arrives in two pieces, 'zz' and 's11', that no check may read apart:
 * - Responses: a value set first (a part, an item's arguments, a `*.done` text) and continued by
 *   deltas, which a client appends to it (the openai SDK's ResponseAccumulator);
 * - Responses: the text of one message item continued in a later one (the client's `output_text`
 *   joins items without a separator);
 * - chat, window mode: a long run without spaces ending in 'zz' at a window boundary, with another
 *   lane's events between it and the 's11' that continues it.
 * What the client holds at the end (the SDK's own snapshot) never contains the marker.
 */
const UNSAFE = 'zzs11';
const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
const text = (t: string) => ({ type: 'output_text', text: t, annotations: [] });
const added = (index = 0, id = 'msg_1') => ({ type: 'response.output_item.added', output_index: index, item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
const partAdded = (t = '', index = 0, id = 'msg_1') => ({ type: 'response.content_part.added', item_id: id, output_index: index, content_index: 0, part: text(t) });
const delta = (d: string, index = 0, id = 'msg_1') => ({ type: 'response.output_text.delta', item_id: id, output_index: index, content_index: 0, delta: d });
const words = (index = 0, id = 'msg_1') => ['s11 rest ', 'of ', 'the ', 'answer ', 'here ', 'and ', 'more.'].map((w) => delta(w, index, id));

const SET_THEN_CONTINUED: [string, Record<string, unknown>[]][] = [
  ['a part added with text, continued by deltas', [added(), partAdded('zz'), ...words()]],
  [
    "an added call's arguments, continued by argument deltas",
    [
      { type: 'response.output_item.added', output_index: 0, item: { id: 'fc_1', type: 'function_call', status: 'in_progress', call_id: 'call_1', name: 'post', arguments: '{"text":"zz' } },
      ...['s11 rest ', 'of ', 'the ', 'message"}'].map((d) => ({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: d })),
    ],
  ],
  ['a done text that differs from the deltas, continued by more deltas', [added(), partAdded(), delta('Fine.'), { type: 'response.output_text.done', ...at, text: 'zz' }, ...words()]],
];

/** A gateway under the fixture policy as `edit` makes it, and the openai client on it, for one describe block. */
function gatewayWithClient(edit: (yaml: string) => string): { h: Harness; client: OpenAI } {
  const gw = {} as { h: Harness; client: OpenAI };
  beforeAll(async () => {
    gw.h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
    gw.client = new OpenAI({ baseURL: gw.h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => gw.h.close());
  return gw;
}

/**
 * What a client holds: every event the openai SDK emitted, its final response, and the message
 * text as its `output_text` grew while streaming (parts' and deltas' text in order, joined).
 */
async function clientView(client: OpenAI): Promise<string> {
  const stream = client.responses.stream({ model: 'dev', input: 'go' });
  const seen: unknown[] = [];
  let streamed = '';
  for await (const event of stream) {
    seen.push(event);
    if (event.type === 'response.output_text.delta') streamed += event.delta;
    if (event.type === 'response.content_part.added' && event.part.type === 'output_text') streamed += event.part.text;
  }
  const final = await stream.finalResponse();
  return `${JSON.stringify(seen)}\n${JSON.stringify(final)}\n${final.output_text}\n${streamed}`;
}

describe.each([
  ['buffer', bufferMode],
  ['window', windowMode(2)],
])('bypass: Responses text the client joins (%s mode)', (_mode, edit) => {
  const gw = gatewayWithClient(edit);

  test.each(SET_THEN_CONTINUED)('%s: read joined, blocked', async (_name, events) => {
    await gw.h.script({ raw_events: responseStream(events) });
    expect(await clientView(gw.client)).not.toContain(UNSAFE);
    expect(gw.h.recorder.records.at(-1)!.action).toBe('block');
  });

  test("one message item's text continued in a later item (empty items between): read joined, as output_text joins them", async () => {
    const events = [added(0, 'msg_a'), partAdded('', 0, 'msg_a'), delta('Hello zz', 0, 'msg_a'), added(1, 'msg_b'), partAdded('', 1, 'msg_b'), added(2, 'msg_c'), partAdded('', 2, 'msg_c'), added(3, 'msg_d'), partAdded('', 3, 'msg_d'), ...words(3, 'msg_d')];
    await gw.h.script({ raw_events: responseStream(events) });
    expect(await clientView(gw.client)).not.toContain(UNSAFE);
    expect(gw.h.recorder.records.at(-1)!.action).toBe('block');
  });

  test('the same pieces that never join pass (a part set, then deltas of another item after a separator)', async () => {
    await gw.h.script({ raw_events: responseStream([added(), partAdded('zz'), delta(' and so on.'), added(1, 'msg_b'), partAdded('', 1, 'msg_b'), delta('\ns11 is a part number.', 1, 'msg_b')]) });
    const view = await clientView(gw.client);
    expect(view).toContain('s11 is a part number.');
    expect(gw.h.recorder.records.at(-1)!.action).toBe('allow');
  });
});

describe('bypass: chat window mode, a long run without spaces at a window boundary', () => {
  // Windows of 2 events re-reading 1: the reasoning events between push 'zz' out of the shared overlap.
  const gw = gatewayWithClient(windowMode(2));

  test("its end leads the window that continues it: 'zz' and 's11' are read together before anything goes out", async () => {
    const deltas = [{ content: 'Hello ' }, { content: `${'x'.repeat(70)}zz` }, { reasoning_content: 'thinking ' }, { reasoning_content: 'more ' }, ...['s11 rest ', 'more ', 'words ', 'here ', 'and ', 'so ', 'on ', 'end.'].map((content) => ({ content }))];
    await gw.h.script({ raw_events: chatEvents(deltas) });
    const stream = await gw.client.chat.completions.create({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] });
    let content = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(content).not.toContain(UNSAFE);
    expect(content).not.toContain('s11 rest');
    expect(finish).toBe('content_filter');
  });
});

describe.each([
  ['buffer', bufferMode],
  ['window', windowMode(2)],
])('bypass: chat text a client assembles from pieces the engine sent apart (%s mode)', (_mode, edit) => {
  const gw = gatewayWithClient(edit);

  /** The final message as the openai stream helper builds it, and whether the answer ended blocked. */
  async function assembled(): Promise<string> {
    const stream = gw.client.chat.completions.stream({ model: 'dev', messages: [{ role: 'user', content: 'go' }], logprobs: true, top_logprobs: 1 });
    for await (const _chunk of stream);
    const final = await stream.finalChatCompletion();
    return JSON.stringify(final);
  }

  test("a chunk's message, which the client copies over its own and continues with the deltas after it", async () => {
    const chunk = (choice: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [{ index: 0, logprobs: null, finish_reason: null, ...choice }] })}`;
    await gw.h.script({ raw_events: [chunk({ message: { role: 'assistant', content: 'I say zz' }, delta: { role: 'assistant', content: '' } }), chunk({ delta: { content: 's11 now' } }), chunk({ delta: {}, finish_reason: 'stop' }), 'data: [DONE]'] });
    expect(await assembled()).not.toContain(UNSAFE);
    expect(gw.h.recorder.records.at(-1)!.action).toBe('block');
  });

  test("logprob bytes spelled across entries (each entry's own bytes say nothing, together they do)", async () => {
    const entry = (token: string, bytes: number[]) => ({ logprobs: { content: [{ token, logprob: -0.1, bytes, top_logprobs: [] }] } });
    await gw.h.script({ raw_events: chatEvents([{ content: 'zz' }, { content: 'xx' }], [entry('zz', [122, 122]), entry('xx', [115, 49, 49])]) });
    expect(await assembled()).not.toMatch(/"bytes":\[122,122\].*"bytes":\[115,49,49\]/);
    expect(gw.h.recorder.records.at(-1)!.action).toBe('block');
  });
});

describe('bypass: logprob bytes spelled across entries, whole answers', () => {
  const gw = gatewayWithClient(bufferMode);

  test('chat and Responses: read joined and decoded once, blocked; bytes that say what the tokens say add nothing', async () => {
    const entries = [
      { token: 'zz', logprob: -0.1, bytes: [122, 122], top_logprobs: [] },
      { token: 'xx', logprob: -0.1, bytes: [115, 49, 49], top_logprobs: [] },
    ];
    await gw.h.script({ raw_json: chatAnswer({ role: 'assistant', content: 'zzxx' }, { logprobs: { content: entries } }) });
    const chat = await fetch(`${gw.h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }], logprobs: true }) });
    expect(JSON.stringify(await chat.json())).not.toContain('[115,49,49]');
    expect(gw.h.recorder.records.at(-1)!.action).toBe('block');
    await gw.h.script({ raw_json: responseAnswer([{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'zzxx', annotations: [], logprobs: entries }] }]) });
    const responses = await fetch(`${gw.h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', input: 'go' }) });
    expect(JSON.stringify(await responses.json())).not.toContain('[115,49,49]');
    expect(gw.h.recorder.records.at(-1)!.action).toBe('block');
    // A member an engine named `bytes` holds text, not bytes: read as sent (full-width letters, which decoding them as bytes would garble).
    await gw.h.script({ raw_json: chatAnswer({ role: 'assistant', content: 'Fine.' }, { extra: { bytes: 'ｚｚｓ１１' } }) });
    const named = await fetch(`${gw.h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) });
    expect(JSON.stringify(await named.json())).not.toContain('ｚｚｓ１１');
    expect(gw.h.recorder.records.at(-1)!.action).toBe('block');
    await gw.h.script({ raw_json: responseAnswer([{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Fine.', annotations: [{ type: 'url_citation', url: 'https://example.com', title: 'x', start_index: 0, end_index: 1, bytes: 'ｚｚｓ１１' }] }] }]) });
    const namedResponses = await fetch(`${gw.h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', input: 'go' }) });
    expect(JSON.stringify(await namedResponses.json())).not.toContain('ｚｚｓ１１');
    expect(gw.h.recorder.records.at(-1)!.action).toBe('block');
    // UTF-8 split across entries, as byte-level tokenizers do: the bytes say what the text says, and pass.
    const e = Buffer.from('é', 'utf8');
    await gw.h.script({ raw_json: chatAnswer({ role: 'assistant', content: 'café' }, { logprobs: { content: [{ token: 'caf', logprob: -0.1, bytes: [99, 97, 102], top_logprobs: [] }, { token: 'bytes:\\xc3', logprob: -0.1, bytes: [e[0]], top_logprobs: [] }, { token: 'bytes:\\xa9', logprob: -0.1, bytes: [e[1]], top_logprobs: [] }] } }) });
    const ok = await fetch(`${gw.h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }], logprobs: true }) });
    expect(ok.status).toBe(200);
    expect(gw.h.recorder.records.at(-1)!.action).toBe('allow');
  });
});

describe.each([
  ['buffer', bufferMode],
  ['window', windowMode(2)],
])('bypass: streamed tool-call pieces without an index (older Ollama and SGLang sent them), %s mode', (_mode, edit) => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  const chunk = (tool_calls: unknown[] | undefined, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-t', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [{ index: 0, delta: tool_calls ? { tool_calls } : {}, logprobs: null, finish_reason: finish }] })}`;
  const role = `data: ${JSON.stringify({ id: 'chatcmpl-t', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [{ index: 0, delta: { role: 'assistant', content: null }, logprobs: null, finish_reason: null }] })}`;
  const stream = (pieces: unknown[][]) => [role, ...pieces.map((p) => chunk(p)), chunk(undefined, 'tool_calls'), 'data: [DONE]'];

  test("pieces are read joined, as the openai SDK joins them all: 'q' and 'zz' at positions 0 and 1, then 's1' at 0, is blocked (by position alone: 'qs1' and 'zz')", async () => {
    await h.script({ raw_events: stream([[{ type: 'function', id: 'call_a1', function: { name: 'f', arguments: 'q' } }, { function: { arguments: 'zz' } }], [{ function: { arguments: 's1' } }]]) });
    const seen: string[] = [];
    const run = client.chat.completions.stream({ model: 'dev', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] });
    run.on('chunk', (_c, snapshot) => {
      const calls = snapshot.choices[0]?.message.tool_calls as unknown as Record<string, { function?: { arguments?: string } }> | undefined;
      for (const k of Object.keys(calls ?? {})) if (calls![k]?.function?.arguments) seen.push(calls![k]!.function!.arguments!);
    });
    await run.done().catch(() => undefined);
    expect(seen.join(' ')).not.toContain('zzs1');
    expect(h.recorder.records.at(-1)?.action).toBe('block');
  });

  test('a whole call in one piece without an index passes, as such engines send it', async () => {
    await h.script({ raw_events: stream([[{ type: 'function', id: 'call_a1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]]) });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'weather?' }] }) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('get_weather');
    expect(text).not.toContain('engine_error');
    expect(h.recorder.records.at(-1)?.action).toBe('allow');
    // Read both ways, delivered (and charged) once.
    expect(h.recorder.records.at(-1)?.content?.output).toEqual(['get_weather({"city":"Paris"})']);
  });

  test('two whole calls in one chunk without indexes (parallel calls): recorded as the two calls, no joined third', async () => {
    await h.script({ raw_events: stream([[{ type: 'function', id: 'call_a1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { type: 'function', id: 'call_a2', function: { name: 'get_time', arguments: '{"tz":"CET"}' } }]]) });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'weather and time?' }] }) });
    expect(res.status).toBe(200);
    await res.text();
    expect(h.recorder.records.at(-1)?.content?.output).toEqual(['get_weather({"city":"Paris"})\nget_time({"tz":"CET"})']);
  });
});

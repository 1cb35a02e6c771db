import OpenAI from 'openai';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, chatEvents, defaultPolicyWithFixtureModels, responseStream, windowMode } from './support';

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
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  test.each(SET_THEN_CONTINUED)('%s: read joined, blocked', async (_name, events) => {
    await h.script({ raw_events: responseStream(events) });
    expect(await clientView(client)).not.toContain(UNSAFE);
    expect(h.recorder.records.at(-1)!.action).toBe('block');
  });

  test("one message item's text continued in a later item (empty items between): read joined, as output_text joins them", async () => {
    const events = [added(0, 'msg_a'), partAdded('', 0, 'msg_a'), delta('Hello zz', 0, 'msg_a'), added(1, 'msg_b'), partAdded('', 1, 'msg_b'), added(2, 'msg_c'), partAdded('', 2, 'msg_c'), added(3, 'msg_d'), partAdded('', 3, 'msg_d'), ...words(3, 'msg_d')];
    await h.script({ raw_events: responseStream(events) });
    expect(await clientView(client)).not.toContain(UNSAFE);
    expect(h.recorder.records.at(-1)!.action).toBe('block');
  });

  test('the same pieces that never join pass (a part set, then deltas of another item after a separator)', async () => {
    await h.script({ raw_events: responseStream([added(), partAdded('zz'), delta(' and so on.'), added(1, 'msg_b'), partAdded('', 1, 'msg_b'), delta('\ns11 is a part number.', 1, 'msg_b')]) });
    const view = await clientView(client);
    expect(view).toContain('s11 is a part number.');
    expect(h.recorder.records.at(-1)!.action).toBe('allow');
  });
});

describe('bypass: chat window mode, a long run without spaces at a window boundary', () => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    // Windows of 2 events re-reading 1: the reasoning events between push 'zz' out of the shared overlap.
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(2)) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  test("its end leads the window that continues it: 'zz' and 's11' are read together before anything goes out", async () => {
    const deltas = [{ content: 'Hello ' }, { content: `${'x'.repeat(70)}zz` }, { reasoning_content: 'thinking ' }, { reasoning_content: 'more ' }, ...['s11 rest ', 'more ', 'words ', 'here ', 'and ', 'so ', 'on ', 'end.'].map((content) => ({ content }))];
    await h.script({ raw_events: chatEvents(deltas) });
    const stream = await client.chat.completions.create({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] });
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

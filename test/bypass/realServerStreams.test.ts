import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, defaultPolicyWithFixtureModels, offMode, responsePayloads, responseStream, windowMode } from './support';

/**
 * Responses streams as vLLM, Ollama and llama.cpp's server write them (test/fixtures/responses-streams,
 * reconstructed from each server's code: llama.cpp sends no output_index, content_index or
 * sequence_number; vLLM's older path counts content_index up on every delta; Ollama gives a
 * message and a call one output_index; created and in_progress may carry no output). Each is
 * relayed in every mode as the client's SDK reads it, and its text is read: with its first word
 * made unsafe (zzs11) it is blocked in buffer and window modes, and the unsafe word never reaches
 * the client.
 */
const UNSAFE = 'zzs11';
const DIR = path.join(__dirname, '..', 'fixtures', 'responses-streams');
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.sse'));
const eventsOf = (file: string, edit: (raw: string) => string = (r) => r) =>
  edit(readFileSync(path.join(DIR, file), 'utf8'))
    .split(/\n\n+/)
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
const streamBody = JSON.stringify({ model: 'dev', stream: true, input: 'go' });
const post = (h: Harness) => fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody });
/** The message text a client that prints deltas shows. */
const printed = (events: Record<string, unknown>[]) => events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta as string).join('');

describe.each([
  ['buffer', bufferMode],
  ['window', windowMode(2)],
  ['off', offMode],
])('Responses streams of real servers (%s mode)', (mode, edit) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
  });
  afterAll(async () => h.close());

  test.each(FIXTURES)('%s: relayed whole, as sent', async (file) => {
    const sent = eventsOf(file);
    await h.script({ raw_events: sent });
    const before = h.recorder.records.length;
    const res = await post(h);
    expect(res.status).toBe(200);
    const events = responsePayloads(await res.text());
    expect(events.map((e) => e.type)).toEqual(sent.map((e) => /^event: (.*)$/m.exec(e)![1]));
    expect(printed(events)).toBe('Hello world');
    expect(events.at(-1)).toMatchObject({ type: 'response.completed' });
    expect(h.recorder.records[before]).toMatchObject({ route: '/v1/responses', status: 200 });
  });

  if (mode === 'off') return; // off relays as it comes: the answer check only records
  test.each(FIXTURES)('%s with an unsafe word: blocked, the word never sent', async (file) => {
    await h.script({ raw_events: eventsOf(file, (raw) => raw.replaceAll('Hello', UNSAFE)) });
    const before = h.recorder.records.length;
    const text = await (await post(h)).text();
    expect(text).not.toContain(UNSAFE);
    expect(responsePayloads(text).at(-1)).toMatchObject({ type: 'response.incomplete', response: { incomplete_details: { reason: 'content_filter' } } });
    // Window mode records each window's check: one of them blocked.
    expect(h.recorder.records[before]!.outputs.map((o) => o.decision)).toContainEqual(expect.objectContaining({ action: 'block', decidingRule: 'unsafe-answer' }));
  });

  test.each([true, false])('a phrase split over two parts of a message (indexes sent: %s) is read joined, as clients join it', async (indexed) => {
    const item = { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    const at = (c: number) => (indexed ? { output_index: 0, content_index: c } : {});
    const events = [
      { type: 'response.created', response: { id: 'resp_1', object: 'response', status: 'in_progress' } },
      { type: 'response.output_item.added', ...(indexed ? { output_index: 0 } : {}), item },
      { type: 'response.content_part.added', item_id: 'msg_1', ...at(0), part: { type: 'output_text', text: '' } },
      { type: 'response.output_text.delta', item_id: 'msg_1', ...at(0), delta: 'One two zz' },
      { type: 'response.content_part.added', item_id: 'msg_1', ...at(1), part: { type: 'output_text', text: '' } },
      { type: 'response.output_text.delta', item_id: 'msg_1', ...at(1), delta: 's11 three' },
      { type: 'response.output_text.delta', item_id: 'msg_1', ...at(1), delta: ' four' },
      { type: 'response.output_text.delta', item_id: 'msg_1', ...at(1), delta: ' five' },
      // No output_item.done, and a completed response without output: the deltas are all the text there is.
      { type: 'response.completed', response: { id: 'resp_1', object: 'response', status: 'completed', model: 'dev', output: [] } },
    ].map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}`);
    await h.script({ raw_events: events });
    const text = await (await post(h)).text();
    expect(text).not.toContain('s11');
    expect(responsePayloads(text).at(-1)).toMatchObject({ type: 'response.incomplete', response: { incomplete_details: { reason: 'content_filter' } } });
  });

  test("message text sent out of item order is read in item order too, as the SDKs' output_text joins it", async () => {
    const item = (id: string) => ({ id, type: 'message', status: 'in_progress', role: 'assistant', content: [] });
    const delta = (output_index: number, d: string) => ({ type: 'response.output_text.delta', output_index, content_index: 0, item_id: `m${output_index}`, delta: d });
    await h.script({ raw_events: responseStream([{ type: 'response.output_item.added', output_index: 0, item: item('m0') }, { type: 'response.output_item.added', output_index: 1, item: item('m1') }, delta(1, 's11 three four'), delta(0, 'One two zz')]) });
    const text = await (await post(h)).text();
    expect(responsePayloads(text).at(-1)).toMatchObject({ type: 'response.incomplete', response: { incomplete_details: { reason: 'content_filter' } } });
  });

  test("an event whose item_id names an item opened at another output_index is refused: clients keyed by id and by index would join it differently", async () => {
    const item = (id: string) => ({ id, type: 'message', status: 'in_progress', role: 'assistant', content: [] });
    const delta = (output_index: number, item_id: string, d: string) => ({ type: 'response.output_text.delta', output_index, content_index: 0, item_id, delta: d });
    await h.script({
      raw_events: responseStream([
        { type: 'response.output_item.added', output_index: 0, item: item('A') },
        { type: 'response.output_item.added', output_index: 1, item: item('B') },
        delta(0, 'A', 'How to zz'),
        delta(1, 'B', 'hello '),
        delta(1, 'A', 's11'),
      ]),
    });
    const res = await post(h);
    const text = await res.text();
    expect(text).not.toContain('s11');
    // Nothing sent yet (buffer mode, or window mode before its first release): a 502. Else the stream ends with an error event.
    if (res.status === 502) expect(JSON.parse(text).error.code).toBe('engine_error');
    else expect(responsePayloads(text).at(-1)).toMatchObject({ type: 'error', code: 'engine_error' });
  });

  test('a delta without its indexes after indexed events is read in the item it continues', async () => {
    const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
    const events = responseStream([
      { type: 'response.output_item.added', output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] } },
      { type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '' } },
      { type: 'response.output_text.delta', ...at, delta: 'One two three' },
      { type: 'response.output_text.delta', delta: ` ${UNSAFE}` },
      { type: 'response.output_text.delta', ...at, delta: ' four' },
    ]);
    await h.script({ raw_events: events });
    const text = await (await post(h)).text();
    expect(text).not.toContain(UNSAFE);
    expect(text).not.toContain(' four');
    expect(responsePayloads(text).at(-1)).toMatchObject({ type: 'response.incomplete', response: { incomplete_details: { reason: 'content_filter' } } });
  });
});

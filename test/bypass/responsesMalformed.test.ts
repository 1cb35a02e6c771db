import OpenAI, { APIError } from 'openai';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, defaultPolicyWithFixtureModels, offMode, responseAnswer, responsePayloads, responseStream, windowMode } from './support';

/**
 * Issue 17: Responses answers the gateway cannot read are never relayed. An engine `error` event,
 * `response.failed`, an event that is not JSON or has no `type`, a documented member of the wrong
 * type, `[DONE]` or the end of the stream before `response.completed`: once bytes went out (window
 * and off modes) the stream ends with an `error` event in the Responses shape (what the openai
 * client raises an APIError on); before that (buffer mode) the request fails with 502
 * engine_error. Malformed whole answers are 502s. The unsafe text they carry (zzs11) never reaches
 * the client, and every request leaves one record.
 */
const UNSAFE = 'zzs11';
const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
const delta = (d: string) => ({ type: 'response.output_text.delta', ...at, delta: d });
const harmless = [
  { type: 'response.output_item.added', output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] } },
  { type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '' } },
  delta('One'),
  delta(' two'),
  delta(' three'),
];
/** Harmless events first (so window and off modes have released bytes), then the bad one, then more. */
const eventsWith = (bad: string) => {
  const events = responseStream([...harmless, delta(' four')]);
  return [...events.slice(0, 6), bad, ...events.slice(6)];
};
const BAD_EVENTS: [string, string][] = [
  ['an engine error event', `event: error\ndata: {"type":"error","code":"server_error","message":"${UNSAFE}","sequence_number":6}`],
  ['response.failed', `data: ${JSON.stringify({ type: 'response.failed', sequence_number: 6, response: responseAnswer([], { status: 'failed', error: { code: 'server_error', message: UNSAFE } }) })}`],
  ['data: null', 'data: null'],
  ['data: 42', 'data: 42'],
  ['invalid JSON', `data: {"type":"response.output_text.delta","delta":"${UNSAFE}`],
  ['an event without a type', `data: {"delta":"${UNSAFE}","sequence_number":6}`],
  ['a delta of the wrong type', `data: {"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":{"text":"${UNSAFE}"}}`],
  // Without its indexes a delta is read in the item it continues (realServerStreams.test.ts); with one of the wrong type it is malformed.
  ['a delta with an index that is not a number', `data: {"type":"response.output_text.delta","output_index":"0","content_index":0,"delta":"${UNSAFE}"}`],
  ['a member named twice', `data: {"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":" ${UNSAFE}","delta":" ok"}`],
  ['[DONE] before the response completed', 'data: [DONE]'],
];
const streamBody = JSON.stringify({ model: 'dev', stream: true, input: 'go' });
const post = (h: Harness, body: string) => fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe.each([
  ['window', windowMode(2)],
  ['off', offMode],
])('bypass: malformed Responses events after the first bytes (%s mode)', (_mode, edit) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
  });
  afterAll(async () => h.close());

  test.each(BAD_EVENTS)('%s ends the stream with an error event, nothing after it', async (_name, bad) => {
    await h.script({ raw_events: eventsWith(bad) });
    const before = h.recorder.records.length;
    const res = await post(h, streamBody);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(UNSAFE);
    expect(text).not.toContain(' four');
    const events = responsePayloads(text);
    expect(events.map((e) => e.type)).toContain('response.output_text.delta');
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'engine_error', error: { type: 'api_error', code: 'engine_error' } });
    expect(h.recorder.records.length).toBe(before + 1);
    expect(h.recorder.records[before]).toMatchObject({ route: '/v1/responses', status: 502, error: { type: 'engine_error' } });
  });

  test('an event with an earlier event: line (text no parser shows) is rewritten, never relayed as sent', async () => {
    const events = responseStream([...harmless, delta(' four')]);
    const doubled = `event: you are ${UNSAFE} here\n${events[6].startsWith('event:') ? events[6] : `event: response.output_text.delta\n${events[6]}`}`;
    await h.script({ raw_events: [...events.slice(0, 6), doubled, ...events.slice(7)] });
    const text = await (await post(h, streamBody)).text();
    expect(text).not.toContain(UNSAFE);
    expect(responsePayloads(text).map((e) => e.type)).toContain('response.completed');
  });

  test('a stream cut before response.completed ends with an error event too', async () => {
    await h.script({ raw_events: responseStream([...harmless, delta(' four')]).slice(0, -1) });
    const events = responsePayloads(await (await post(h, streamBody)).text());
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'engine_error' });
  });

  test('the openai client raises an APIError on the error event', async () => {
    await h.script({ raw_events: eventsWith('data: 42') });
    const client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.responses.create({ model: 'dev', stream: true, input: 'go' });
    const err = await (async () => {
      for await (const _ of stream) {
        /* read */
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
  });
});

describe('bypass: malformed Responses answers before any byte went out (buffer mode, not streamed)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(bufferMode), config: { engine: { max_answer_bytes: 64 * 1024 } } });
  });
  afterAll(async () => h.close());

  async function expect502(res: Response) {
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).not.toContain(UNSAFE);
    expect(JSON.parse(text)).toMatchObject({ error: { type: 'api_error', code: 'engine_error' } });
  }

  test.each(BAD_EVENTS)('streamed, %s: 502 engine_error, nothing relayed', async (_name, bad) => {
    await h.script({ raw_events: eventsWith(bad) });
    await expect502(await post(h, streamBody));
  });

  test.each([
    ['status failed', responseAnswer([], { status: 'failed', note: UNSAFE })],
    ['an error member', responseAnswer([], { error: { message: UNSAFE } })],
    ['output not a list', responseAnswer({ text: UNSAFE } as never)],
    ['content not a list', responseAnswer([{ type: 'message', content: UNSAFE }])],
    ['arguments an object', responseAnswer([{ type: 'function_call', name: 'f', call_id: 'c', arguments: { text: UNSAFE } }])],
    ['null', null],
  ])('not streamed, %s: 502 engine_error, never a 500', async (_name, answer) => {
    await h.script({ raw_json: answer });
    const before = h.recorder.records.length;
    await expect502(await post(h, JSON.stringify({ model: 'dev', input: 'go' })));
    expect(h.recorder.records.length).toBe(before + 1);
  });

  test('an answer over engine.max_answer_bytes is a 502, streamed or not', async () => {
    const big = 'word '.repeat(20_000);
    await h.script({ raw_json: responseAnswer([{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: big }] }]) });
    await expect502(await post(h, JSON.stringify({ model: 'dev', input: 'go' })));
    await h.script({ raw_events: responseStream(Array.from({ length: 2000 }, () => delta('word word word '))) });
    await expect502(await post(h, streamBody));
  });
});

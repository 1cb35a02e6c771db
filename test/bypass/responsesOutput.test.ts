import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, defaultPolicyWithFixtureModels, responseAnswer, responsePayloads, responseStream, windowMode } from './support';

/**
 * Issue 17, answer fields of the Responses API: the engine answers with unsafe text (zzs11) in
 * each place a client receives. Under the default policy the answer is blocked (status
 * incomplete, reason content_filter, response.incomplete when streamed) and the unsafe text never
 * reaches the client, streamed (buffer and window modes) or not.
 */
const UNSAFE = 'zzs11';
const text = (t: string, extra: Record<string, unknown> = {}) => ({ type: 'output_text', text: t, annotations: [], logprobs: [], ...extra });
const message = (content: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content, ...extra });
const fine = message([text('Fine.')]);

const WHOLE: [string, Record<string, unknown>][] = [
  ['output_text', responseAnswer([message([text(`Here: ${UNSAFE}`)])])],
  ['a second output_text part', responseAnswer([message([text('Fine. '), text(UNSAFE)])])],
  ['a refusal part', responseAnswer([message([{ type: 'refusal', refusal: `I will not, but: ${UNSAFE}` }])])],
  ['a reasoning summary', responseAnswer([{ id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: `Plan: ${UNSAFE}` }] }, fine])],
  ['reasoning content', responseAnswer([{ id: 'rs_1', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: UNSAFE }] }, fine])],
  ['function call arguments', responseAnswer([{ id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'post', arguments: `{"text":"${UNSAFE}"}` }])],
  ['a function call name', responseAnswer([{ id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_1', name: UNSAFE, arguments: '{}' }])],
  ['an annotation title', responseAnswer([message([text('Fine.', { annotations: [{ type: 'url_citation', url: 'https://example.com', title: UNSAFE, start_index: 0, end_index: 4 }] })])])],
  ['logprob tokens', responseAnswer([message([text('Fine.', { logprobs: [{ token: 'Fine', logprob: -1, top_logprobs: [] }, { token: ` ${UNSAFE}`, logprob: -1, top_logprobs: [] }] })])])],
  ['top logprob alternatives', responseAnswer([message([text('Fine.', { logprobs: [{ token: 'Fine.', logprob: -1, top_logprobs: [{ token: UNSAFE, logprob: -3 }] }] })])])],
  ['an output item of a kind the gateway does not know', responseAnswer([fine, { id: 'x_1', type: 'mcp_call', status: 'completed', output: UNSAFE }])],
  ['an unknown member of the response', responseAnswer([fine], { audio: { transcript: UNSAFE } })],
  ['echoed instructions the engine changed', responseAnswer([fine], { instructions: `Be brief. ${UNSAFE}` })],
  // Bookkeeping engines never send: hyphen-joined words where an identifier goes.
  ['the response id', responseAnswer([fine], { id: `you-are-${UNSAFE}-said-so` })],
  ['the model, other than the one asked for', responseAnswer([fine], { model: `you-${UNSAFE}` })],
  ['the response status', responseAnswer([fine], { status: `you-${UNSAFE}` })],
  ['a usage member name', responseAnswer([fine], { usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2, [`you-${UNSAFE}`]: 0 } })],
  ['an item status', responseAnswer([message([text('Fine.')], { status: `you-${UNSAFE}` })])],
  ['an item role', responseAnswer([message([text('Fine.')], { role: `you-${UNSAFE}` })])],
];

const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
const added = { type: 'response.output_item.added', output_index: 0, item: { ...fine, status: 'in_progress', content: [] } };
const partAdded = { type: 'response.content_part.added', ...at, part: text('') };
const delta = (d: string) => ({ type: 'response.output_text.delta', ...at, delta: d, logprobs: [] });
/** Streamed answers: the same places as stream events (three members each, see outputFields.test.ts). */
const STREAMED: [string, Record<string, unknown>[], Record<string, unknown>[]][] = [
  ['output_text deltas', [added, partAdded, delta('Here is '), delta('how: '), delta(UNSAFE), { type: 'response.output_text.done', ...at, text: `Here is how: ${UNSAFE}` }], []],
  ['only the final output_text.done (no deltas)', [added, partAdded, { type: 'response.output_text.done', ...at, text: UNSAFE }], []],
  ['a done text that differs from its deltas', [added, partAdded, delta('Fine.'), { type: 'response.output_text.done', ...at, text: `Fine. ${UNSAFE}` }], []],
  ['refusal deltas', [added, { type: 'response.content_part.added', ...at, part: { type: 'refusal', refusal: '' } }, { type: 'response.refusal.delta', ...at, delta: 'No: ' }, { type: 'response.refusal.delta', ...at, delta: UNSAFE }], []],
  ['reasoning summary deltas', [{ type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }, { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 0, summary_index: 0, delta: `Plan: ${UNSAFE}` }], []],
  ['function call argument deltas', [{ type: 'response.output_item.added', output_index: 0, item: { id: 'fc_1', type: 'function_call', status: 'in_progress', call_id: 'call_1', name: 'post', arguments: '' } }, { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: '{"text":"' }, { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: `${UNSAFE}"}` }], []],
  ['an annotation event', [added, partAdded, delta('Fine.'), { type: 'response.output_text.annotation.added', ...at, annotation_index: 0, annotation: { type: 'url_citation', url: 'https://example.com', title: UNSAFE, start_index: 0, end_index: 4 } }], []],
  ['an event kind the gateway does not know', [added, partAdded, delta('Fine.'), { type: 'response.audio.transcript.delta', output_index: 0, delta: UNSAFE }], []],
  ['only the completed response', [], [message([text(UNSAFE)])]],
  ['an added item\'s role', [{ ...added, item: { ...added.item, role: `you-${UNSAFE}` } }, partAdded, delta('Fine.')], []],
  // An unknown member continued over deltas (a[1]), with another (a[2], or b nesting c beside "b.c") between: never one slot.
  ['an unknown delta member whose name holds an index', [added, partAdded, { ...delta('Hi'), 'a[1]': 'zz' }, { ...delta(' there'), 'a[2]': ' ' }, { ...delta('!'), 'a[1]': 's11' }], []],
  ['an unknown delta member whose name holds a dot', [added, partAdded, { ...delta('Hi'), 'b.c': 'zz' }, { ...delta(' there'), b: { c: ' ' } }, { ...delta('!'), 'b.c': 's11' }], []],
];

function expectBlockedStream(body: string): void {
  expect(body).not.toContain(UNSAFE);
  const events = responsePayloads(body);
  expect(events.at(-1)).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'content_filter' } } });
  const numbers = events.map((e) => e.sequence_number as number);
  expect(numbers).toEqual([...new Set(numbers)].sort((a, b) => a - b));
}

const streamBody = JSON.stringify({ model: 'dev', stream: true, input: 'go' });

describe('bypass: Responses answer fields under the default policy', () => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(bufferMode) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  test.each(WHOLE)('not streamed: unsafe text in %s is blocked', async (_name, answer) => {
    await h.script({ raw_json: answer });
    const { data, response } = await client.responses.create({ model: 'dev', input: 'go' }).withResponse();
    expect(response.headers.get('x-safety-verdict')).toBe('block');
    expect(data).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
    expect(JSON.stringify(data)).not.toContain(UNSAFE);
    expect(h.recorder.records.at(-1)!.outputs[0].decision).toMatchObject({ action: 'block', decidingRule: 'unsafe-answer' });
  });

  test.each(STREAMED)('streamed (buffer): unsafe text in %s is blocked', async (_name, events, output) => {
    await h.script({ raw_events: responseStream(events, output) });
    const res = await fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody });
    expectBlockedStream(await res.text());
  });

  test('streamed through the openai client: the final response is incomplete (content_filter), nothing unsafe in any event', async () => {
    await h.script({ raw_events: responseStream(STREAMED[0][1]) });
    const stream = client.responses.stream({ model: 'dev', input: 'go' });
    const seen: ResponseStreamEvent[] = [];
    for await (const event of stream) seen.push(event);
    const final = await stream.finalResponse();
    expect(JSON.stringify(seen)).not.toContain(UNSAFE);
    expect(final).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
  });

  test('a harmless answer with the same fields passes byte for byte', async () => {
    const answer = responseAnswer([{ id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Plan: be brief.' }] }, message([text('Fine.', { annotations: [{ type: 'url_citation', url: 'https://example.com', title: 'Example', start_index: 0, end_index: 4 }] })])], { instructions: null });
    await h.script({ raw_json: answer });
    const res = await fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', input: 'go' }) });
    expect(await res.json()).toEqual(answer);
    const events = responseStream([added, partAdded, delta('Fine.'), { type: 'response.output_text.done', ...at, text: 'Fine.' }], [fine]);
    await h.script({ raw_events: events });
    const streamed = await fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody });
    expect(await streamed.text()).toBe(events.map((e) => `${e}\n\n`).join(''));
  });
});

describe('bypass: Responses answer fields in window mode (text released as it is checked)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(2)) });
  });
  afterAll(async () => h.close());

  test.each(STREAMED)('unsafe text in %s never reaches the client', async (_name, events, output) => {
    await h.script({ raw_events: responseStream(events, output) });
    const res = await fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody });
    expectBlockedStream(await res.text());
  });

  test('checked text before the unsafe window is released, the refusal follows as an item of its own', async () => {
    await h.script({ raw_events: responseStream([added, partAdded, delta('One'), delta(' two'), delta(' three'), delta(' four'), delta(` ${UNSAFE}`), delta(' six')]) });
    const res = await fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody });
    const events = responsePayloads(await res.text());
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas[0]).toMatchObject({ delta: 'One', output_index: 0 });
    expect(deltas.at(-1)).toMatchObject({ delta: "\n\nI'm sorry, but I can't help with that.", output_index: 1 });
    expect(JSON.stringify(events)).not.toContain(' six');
    // Checked text reached the client before the block: the record says so.
    expect(h.recorder.records.at(-1)).toMatchObject({ action: 'block', status: 200, partial: true });
  });

  test('a block after reasoning went out (no message text yet) is recorded as partly delivered too, as on chat', async () => {
    const rs = { type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } };
    const piece = (delta: string) => ({ type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 0, summary_index: 0, delta });
    await h.script({ raw_events: responseStream([rs, piece('One'), piece(' two'), piece(' three'), piece(' four'), piece(` ${UNSAFE}`), piece(' six')]) });
    const res = await fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamBody });
    expect(await res.text()).toContain('"delta":"One"');
    expect(h.recorder.records.at(-1)).toMatchObject({ action: 'block', status: 200, partial: true });
  });

  test("a stream blocked before the engine's count ends with response.incomplete carrying the gateway's count (it said usage: null), as a blocked chat stream's usage chunk does (SDK hunt)", async () => {
    await h.script({ reply: 'Once upon a time there was a kind dragon who lived in a cave near the sea and then zzs1 violent thing step by step.' });
    const client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const final = await client.responses.stream({ model: 'dev', input: 'Tell me a story' }).finalResponse();
    expect(final.incomplete_details).toEqual({ reason: 'content_filter' });
    expect(final.usage?.input_tokens).toBeGreaterThan(0);
    expect(final.usage?.output_tokens).toBeGreaterThan(0);
    expect(final.usage?.total_tokens).toBe((final.usage?.input_tokens ?? 0) + (final.usage?.output_tokens ?? 0));
  });
});

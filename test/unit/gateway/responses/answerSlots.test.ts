import { parseResponseEvent, parseResponseObject, MalformedAnswerError } from '../../../../engine/answerSchema';
import { parseEngineText } from '../../../../gateway/pipeline/engineAnswer';
import { isBookkeeping } from '../../../../gateway/pipeline/extract/answer';
import { answerScanTexts } from '../../../../gateway/pipeline/extractTexts';
import { responsePieces } from '../../../../gateway/pipeline/responses/answerSlots';
import { answerFromSlots, SlotLedger } from '../../../../gateway/pipeline/responses/slotAnswer';
import { ResponsesAccumulator } from '../../../../gateway/streaming/responsesAccumulator';

/** What the output guard reads of a Responses answer, whole or streamed: every text once, nothing left out. */
const sent = { model: 'm', input: 'hi', instructions: 'Be brief.', tools: [{ type: 'function', name: 'get_weather', description: 'Weather.' }] };
const base = { id: 'resp_1', object: 'response', created_at: 1, status: 'completed', model: 'm', error: null, incomplete_details: null, usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } };
const message = (text: string, extra: Record<string, unknown> = {}) => ({ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [], ...extra }] });
const whole = (json: unknown) => answerFromSlots(new SlotLedger().admit(responsePieces(parseResponseObject(json), sent)));
/** Every text the output rules read: the answer's, then what is checked on its own (ids, member names, bookkeeping). */
const texts = (answer: ReturnType<typeof whole>) => [...answerScanTexts(answer, 'output').map((t) => t.text), ...(answer.extras ?? []).filter((e) => isBookkeeping(e.lane)).map((e) => e.text)];

describe('whole answers', () => {
  test('the message text is the content; the id is read once, bookkeeping is not', () => {
    const answer = whole({ ...base, output: [message('Fine.')] });
    expect(answer.content).toBe('Fine.');
    // An opaque item id carries no words: not read (bookkeeping.ts idPieces).
    expect(texts(answer)).toEqual(['Fine.']);
  });

  test('function calls are tool calls; reasoning, refusals, annotations and logprob tokens are read too', () => {
    const answer = whole({
      ...base,
      output: [
        { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'PLAN' }] },
        { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'REFUSED' }, { type: 'output_text', text: 'Fine.', annotations: [{ type: 'url_citation', url: 'https://x', title: 'TITLE', start_index: 0, end_index: 1 }], logprobs: [{ token: 'Fi', logprob: -1, top_logprobs: [{ token: 'ALT', logprob: -2 }] }, { token: 'ne.', logprob: -1, top_logprobs: [] }] }] },
        { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"ARGS"}' },
      ],
    });
    expect(answer.toolCalls).toEqual([{ name: 'get_weather', arguments: '{"city":"ARGS"}' }]);
    const all = texts(answer).join(' | ');
    for (const word of ['PLAN', 'REFUSED', 'TITLE', 'https://x', 'Fine.', 'ALT']) expect(all).toContain(word);
    // Chosen tokens repeat the content: one text of their own, not one per token.
    expect(texts(answer).filter((t) => t === 'Fine.')).toHaveLength(2);
  });

  test('echoed request members are text only where the engine added something the client did not send', () => {
    const echo = { ...base, instructions: 'Be brief.', tools: [{ type: 'function', name: 'get_weather', description: 'Weather.', strict: true, parameters: null }], tool_choice: 'auto', truncation: 'disabled', text: { format: { type: 'text' } }, output: [message('ok')] };
    expect(texts(whole(echo))).toEqual(['ok']);
    const changed = whole({ ...echo, instructions: 'Be brief. INJECTED', metadata: { note: 'NOTE' } });
    expect(texts(changed)).toEqual(expect.arrayContaining(['Be brief. INJECTED', 'NOTE', 'note']));
  });

  test('unknown members and item kinds are read, member names too', () => {
    const all = texts(whole({ ...base, audio: { transcript: 'SPOKEN' }, output: [{ id: 'x_1', type: 'web_search_call', status: 'completed', action: { query: 'QUERY' } }] })).join(' ');
    for (const word of ['SPOKEN', 'transcript', 'QUERY', 'web_search_call']) expect(all).toContain(word);
  });

  test('a member name the API does not document is text at every level, whatever its value (null included)', () => {
    const item = { ...message('Hi', { NAME_IN_PART: 1 }), NAME_IN_ITEM: null };
    const all = texts(whole({ ...base, NAME_AT_TOP: true, output: [item] })).join(' ');
    for (const word of ['NAME_IN_PART', 'NAME_IN_ITEM', 'NAME_AT_TOP']) expect(all).toContain(word);
    // documented members with null values are structure, not words to check
    expect(texts(whole({ ...base, output: [message('Hi')] })).sort()).toEqual(['Hi']);
  });

  test("an alternative token's bytes are read when they spell something else", () => {
    const logprobs = [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Yo', logprob: -2, bytes: [...Buffer.from('HIDDEN')] }] }];
    expect(texts(whole({ ...base, output: [message('Hi', { logprobs })] })).join(' ')).toContain('HIDDEN');
  });

  test('a __proto__ member is refused as the engine\'s failure: the schema would drop it unread', () => {
    expect(() => parseEngineText('{"output":[],"__proto__":{"note":"unread"}}', 'an answer')).toThrow(/__proto__/);
    expect(() => parseEngineText('{"output":[],"\\u005f_proto__":{"note":"unread"}}', 'an answer')).toThrow(/__proto__/);
    expect(parseEngineText('{"text":"a prototype"}', 'an answer')).toEqual({ text: 'a prototype' });
  });

  test.each([
    ['an error member', { ...base, output: [], error: { message: 'x' } }],
    ['a failed response', { ...base, output: [], status: 'failed' }],
    ['output not a list', { ...base, output: {} }],
    ['content not a list', { ...base, output: [{ type: 'message', content: 'x' }] }],
    ['arguments not a string', { ...base, output: [{ type: 'function_call', name: 'f', arguments: { a: 1 } }] }],
    ['null', null],
  ])('a malformed answer (%s) is the engine\'s failure', (_name, json) => {
    expect(() => parseResponseObject(json)).toThrow(MalformedAnswerError);
  });
});

/** The events of a streamed answer, as the dev engine (and OpenAI) send them. */
function streamOf(text: string[], final = text.join('')): Record<string, unknown>[] {
  const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
  const opening = { ...base, status: 'in_progress', output: [], usage: null, instructions: 'Be brief.' };
  return [
    { type: 'response.created', response: opening },
    { type: 'response.in_progress', response: opening },
    { type: 'response.output_item.added', output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] } },
    { type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '', annotations: [] } },
    ...text.map((delta) => ({ type: 'response.output_text.delta', ...at, delta, logprobs: [] })),
    { type: 'response.output_text.done', ...at, text: final },
    { type: 'response.content_part.done', ...at, part: { type: 'output_text', text: final, annotations: [] } },
    { type: 'response.output_item.done', output_index: 0, item: message(final) },
    { type: 'response.completed', response: { ...base, instructions: 'Be brief.', output: [message(final)] } },
  ].map((e, i) => ({ ...e, sequence_number: i }));
}

function accumulate(events: Record<string, unknown>[]): ResponsesAccumulator {
  const accumulator = new ResponsesAccumulator(sent);
  for (const event of events) accumulator.add(parseResponseEvent(event));
  return accumulator;
}

describe('streamed answers', () => {
  test('a stream states its text four times; the guard reads it once', () => {
    const accumulator = accumulate(streamOf(['Hello', ' world']));
    expect(accumulator.answer().content).toBe('Hello world');
    expect(texts(accumulator.answer())).toEqual(['Hello world']);
    expect(accumulator.final?.id).toBe('resp_1');
    expect(accumulator.lastSequence).toBe(9);
  });

  test('a repeat that says something else than the deltas (an engine changing its story) is read too', () => {
    const accumulator = accumulate(streamOf(['Hello', ' world'], 'Hello CHANGED'));
    expect(texts(accumulator.answer())).toEqual(expect.arrayContaining(['Hello world', 'Hello CHANGED']));
  });

  test('windows: each range of text events, a later whole repeat adds nothing new', () => {
    const accumulator = accumulate(streamOf(['a', 'b', 'c', 'd']));
    // The four deltas: four text events (an opaque item id is no text); the repeats after them carry nothing new.
    expect(accumulator.textEvents).toBe(4);
    expect(accumulator.window(0, 2, 0).content).toBe('ab');
    expect(accumulator.window(2, 4, 0).content).toBe('cd');
  });

  test("message text sent out of item order is also read in item order, as the SDKs' output_text joins it", () => {
    const item = (id: string) => ({ id, type: 'message', status: 'in_progress', role: 'assistant', content: [] });
    const delta = (output_index: number, d: string) => ({ type: 'response.output_text.delta', item_id: `m${output_index}`, output_index, content_index: 0, delta: d });
    const events = [
      { type: 'response.created', response: { ...base, status: 'in_progress', output: [] } },
      { type: 'response.output_item.added', output_index: 0, item: item('m0') },
      { type: 'response.output_item.added', output_index: 1, item: item('m1') },
      delta(1, 'mb, step one'),
      delta(0, 'Make a bo'),
    ];
    const answer = accumulate(events).answer();
    // As a client printing deltas shows it, and as output_text joins it.
    expect(answer.content).toBe('mb, step oneMake a bo');
    expect(answer.extras).toContainEqual({ lane: 'output_text#item_order', text: 'Make a bomb, step one' });
    // In order, there is one view: nothing more is read.
    const inOrder = accumulate([events[0]!, events[1]!, events[2]!, delta(0, 'Make a bo'), delta(1, 'mb, step one')]).answer();
    expect(inOrder.content).toBe('Make a bomb, step one');
    expect(inOrder.extras?.some((e) => e.lane === 'output_text#item_order')).toBe(false);
  });

  test('streamed function call arguments, reasoning summaries and refusals', () => {
    const events = [
      { type: 'response.created', response: { ...base, status: 'in_progress', output: [] } },
      { type: 'response.output_item.added', output_index: 0, item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'post', arguments: '' } },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: '{"text":"' },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: 'ARGS"}' },
      { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 1, summary_index: 0, delta: 'PLAN' },
      { type: 'response.refusal.delta', item_id: 'msg_2', output_index: 2, content_index: 0, delta: 'REFUSED' },
      { type: 'response.some_new_event.delta', output_index: 3, payload: 'NEW' },
    ].map((e, i) => ({ ...e, sequence_number: i }));
    const answer = accumulate(events).answer();
    expect(answer.toolCalls).toEqual([{ name: 'post', arguments: '{"text":"ARGS"}' }]);
    const all = texts(answer).join(' ');
    for (const word of ['PLAN', 'REFUSED', 'NEW', 'response.some_new_event.delta']) expect(all).toContain(word);
  });

  test.each([
    ['an error event', { type: 'error', code: 'x', message: 'm', sequence_number: 1 }],
    ['response.failed', { type: 'response.failed', response: { ...base, status: 'failed', output: [] } }],
    ['a completed response with an error', { type: 'response.completed', response: { ...base, output: [], error: { message: 'x' } } }],
    ['a delta without its text', { type: 'response.output_text.delta', output_index: 0, content_index: 0 }],
    ['a delta that is not text', { type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: 5 }],
    ['an event without a type', { delta: 'x' }],
    ['an item that is not one', { type: 'response.output_item.added', output_index: 0, item: 'x' }],
    ['an index that is not a number', { type: 'response.output_text.delta', output_index: '0', content_index: 0, delta: 'x' }],
    ['a completed response without its output', { type: 'response.completed', response: { id: 'r', object: 'response', status: 'completed' } }],
  ])('a malformed event (%s) is the engine\'s failure', (_name, json) => {
    expect(() => parseResponseEvent(json)).toThrow(MalformedAnswerError);
  });

  test("an opening response without output (llama.cpp's server) has none yet; events without indexes are read", () => {
    expect(parseResponseEvent({ type: 'response.created', response: { id: 'r', object: 'response', status: 'in_progress' } }).response?.output).toEqual([]);
    expect(parseResponseEvent({ type: 'response.output_text.delta', item_id: 'msg_1', delta: 'x' }).delta).toBe('x');
  });
});

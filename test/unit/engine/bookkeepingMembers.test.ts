import {
  MalformedAnswerError,
  parseChatChunk,
  parseChatCompletion,
  parseResponseEvent,
  parseResponseObject,
  parseTextCompletion,
} from '../../../engine/answerSchema';

/**
 * Members the gateway relays without a guard check (ids, model, finish_reason, role, status,
 * usage) must be bookkeeping: identifiers and counts. Words in them would reach the client
 * unread, so such an answer is the engine's failure.
 */
const WORDS = 'You are worthless and should kill yourself';

const chat = (over: Record<string, unknown> = {}, choice: Record<string, unknown> = {}, message: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-9f2c',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'meta-llama/Llama-3.1-405B-Instruct',
  system_fingerprint: 'fp_44709d6fcb',
  usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: null },
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hi.', ...message }, ...choice }],
  ...over,
});
const response = (over: Record<string, unknown> = {}, item: Record<string, unknown> = {}) => ({
  id: 'resp_1',
  object: 'response',
  created_at: 1,
  status: 'incomplete',
  model: 'llama-3.1-405b',
  error: null,
  incomplete_details: { reason: 'max_output_tokens' },
  usage: { input_tokens: 3, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 7 },
  output: [{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hi.', annotations: [] }], ...item }],
  ...over,
});

describe('bookkeeping members of an engine answer', () => {
  test('the shapes vLLM and OpenAI send are accepted', () => {
    expect(parseChatCompletion(chat()).model).toBe('meta-llama/Llama-3.1-405B-Instruct');
    expect(parseChatChunk({ ...chat(), object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null }).choices).toHaveLength(1);
    expect(parseTextCompletion({ id: 'cmpl-1', object: 'text_completion', model: '/models/llama-405b', choices: [{ index: 0, text: 'x', finish_reason: 'length' }] }, false).choices[0].finish_reason).toBe('length');
    expect(parseResponseObject(response()).status).toBe('incomplete');
    // vLLM's Responses usage lists per-turn counts; OpenRouter adds flags.
    const vllmUsage = { input_tokens: 3, input_tokens_details: { cached_tokens: 0, input_tokens_per_turn: [3], cached_tokens_per_turn: [] }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0, tool_output_tokens: 0, output_tokens_per_turn: [4], tool_output_tokens_per_turn: [] }, total_tokens: 7 };
    expect(parseResponseObject(response({ usage: vllmUsage })).usage).toEqual(vllmUsage);
    expect(parseChatCompletion(chat({ usage: { prompt_tokens: 1, is_byok: false, cost: 0.0001 } })).usage).toMatchObject({ is_byok: false });
    expect(parseResponseEvent({ type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: WORDS }).delta).toBe(WORDS);
  });

  test.each([
    ['model', chat({ model: WORDS })],
    ['id', chat({ id: WORDS })],
    ['object', chat({ object: WORDS })],
    ['system_fingerprint', chat({ system_fingerprint: WORDS })],
    ['service_tier', chat({ service_tier: WORDS })],
    ['finish_reason', chat({}, { finish_reason: WORDS })],
    ['message role', chat({}, {}, { role: WORDS })],
    ['a content part type', chat({}, {}, { content: [{ type: WORDS, text: 'Hi.' }] })],
    ['a tool call type', chat({}, {}, { tool_calls: [{ id: 'c1', type: WORDS, function: { name: 'f', arguments: '{}' } }] })],
    ['a usage string', chat({ usage: { prompt_tokens: 9, note: WORDS } })],
    ['a usage member name', chat({ usage: { [WORDS]: 1 } })],
    ['a nested usage string', chat({ usage: { prompt_tokens_details: { cached_tokens: WORDS } } })],
    ['a string in a usage list', chat({ usage: { prompt_tokens_details: { per_turn: [1, WORDS] } } })],
  ])('a chat completion with words in it (%s) is refused', (_name, json) => {
    expect(() => parseChatCompletion(json)).toThrow(MalformedAnswerError);
  });

  test('a stream chunk with words in its finish_reason is refused', () => {
    expect(() => parseChatChunk({ ...chat(), choices: [{ index: 0, delta: {}, finish_reason: WORDS }] })).toThrow(MalformedAnswerError);
    expect(() => parseTextCompletion({ model: 'm', choices: [{ index: 0, text: '', finish_reason: WORDS }] }, true)).toThrow(MalformedAnswerError);
  });

  test.each([
    ['status', response({ status: WORDS })],
    ['model', response({ model: WORDS })],
    ['incomplete reason', response({ incomplete_details: { reason: WORDS } })],
    ['another incomplete_details member', response({ incomplete_details: { reason: 'max_output_tokens', note: WORDS } })],
    ['usage', response({ usage: { input_tokens: WORDS } })],
    ['item role', response({}, { role: WORDS })],
    ['item status', response({}, { status: WORDS })],
    ['item type', response({}, { type: WORDS })],
  ])('a Responses answer with words in it (%s) is refused', (_name, json) => {
    expect(() => parseResponseObject(json)).toThrow(MalformedAnswerError);
  });

  test('a Responses event with words in its type or item id is refused', () => {
    expect(() => parseResponseEvent({ type: WORDS })).toThrow(MalformedAnswerError);
    expect(() => parseResponseEvent({ type: 'response.output_text.delta', item_id: WORDS, output_index: 0, content_index: 0, delta: 'x' })).toThrow(MalformedAnswerError);
  });

  test("a custom tool call's input is text: an object (read as [object Object]) or a missing one is refused", () => {
    const done = { type: 'response.custom_tool_call_input.done', output_index: 0, item_id: 'ctc_1' };
    expect(parseResponseEvent({ ...done, input: 'ls -la' }).input).toBe('ls -la');
    expect(() => parseResponseEvent({ ...done, input: { cmd: WORDS } })).toThrow(MalformedAnswerError);
    expect(() => parseResponseEvent(done)).toThrow(MalformedAnswerError);
    expect(() => parseResponseEvent({ type: 'response.custom_tool_call_input.delta', output_index: 0 })).toThrow(MalformedAnswerError);
  });
});

describe('indexes in stream chunks', () => {
  // Clients tell a stream's choices and tool-call pieces apart by `index` alone (the openai SDKs file
  // one without it under `undefined`); the guards must join exactly what clients join.
  test('a chunk choice without its index is malformed (a tool-call piece without one is read both ways: answerLanes.ts); whole answers go by position', () => {
    const chunk = (choice: Record<string, unknown>) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [choice] });
    expect(() => parseChatChunk(chunk({ delta: { content: 'zz' } }))).toThrow(/choices\.0\.index/);
    expect(parseChatChunk(chunk({ index: 0, delta: { tool_calls: [{ function: { arguments: 'zz' } }] } })).choices).toHaveLength(1);
    expect(parseChatChunk(chunk({ index: 1, delta: { tool_calls: [{ index: 0, function: { arguments: '{}' } }] } })).choices[0].index).toBe(1);
    expect(() => parseTextCompletion({ id: 'c', object: 'text_completion', choices: [{ text: 'zz' }] }, true)).toThrow(MalformedAnswerError);
    expect(parseTextCompletion({ id: 'c', object: 'text_completion', choices: [{ text: 'ok' }] }, false).choices[0].text).toBe('ok');
    expect(parseChatCompletion(chat({}, { index: undefined }, { tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] })).choices).toHaveLength(1);
  });
});

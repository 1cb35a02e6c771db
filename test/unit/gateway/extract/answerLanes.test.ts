import { Readable } from 'node:stream';
import { EngineError } from '../../../../engine/errors';
import { chatAdapter, textAdapter } from '../../../../gateway/pipeline/adapters';
import { answerTurn, bookkeepingText } from '../../../../gateway/pipeline/extractTexts';
import { AnswerAccumulator } from '../../../../gateway/streaming/answerAccumulator';
import { engineEvents } from '../../../../gateway/streaming/engineEvents';

/** Every text a client receives with an answer, streamed or not, and what makes an answer malformed. */
const chatAnswer = (message: Record<string, unknown>, choice: Record<string, unknown> = {}) => ({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop', ...choice }] });
/** What the output rules read of an answer: its turn, then what is checked on its own (ids, member names, bookkeeping). */
const turnOf = (json: unknown) => {
  const answer = chatAdapter.answers(json, { model: 'm' }).get(0)!;
  const turn = answerTurn(answer);
  const apart = bookkeepingText(answer);
  return { ...turn, content: apart === undefined ? turn.content : `${turn.content}\n${apart}` };
};

describe('answers: every text the client receives', () => {
  test.each([
    ['content', { content: 'MARK' }, {}],
    ['content as parts', { content: [{ type: 'text', text: 'MARK' }] }, {}],
    ['refusal', { content: null, refusal: 'MARK' }, {}],
    ['reasoning_content', { content: 'ok', reasoning_content: 'MARK' }, {}],
    ['reasoning', { content: 'ok', reasoning: 'MARK' }, {}],
    ['tool call name', { content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'MARK', arguments: '{}' } }] }, {}],
    ['tool call arguments', { content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '"MARK"' } }] }, {}],
    ['legacy function_call', { content: null, function_call: { name: 'f', arguments: 'MARK' } }, {}],
    ['an unknown message member', { content: 'ok', audio: { transcript: 'MARK' } }, {}],
    ['logprob tokens', { content: 'ok' }, { logprobs: { content: [{ token: 'MA', logprob: -1 }, { token: 'RK', logprob: -1 }] } }],
    ['top_logprobs tokens', { content: 'ok' }, { logprobs: { content: [{ token: 'o', logprob: -1, top_logprobs: [{ token: 'o', logprob: -1 }, { token: 'MA', logprob: -2 }] }, { token: 'k', logprob: -1, top_logprobs: [{ token: 'k', logprob: -1 }, { token: 'RK', logprob: -2 }] }] } }],
    ['logprob bytes', { content: 'ok' }, { logprobs: { content: [{ token: 'ok', logprob: -1, bytes: [...Buffer.from('MARK')] }] } }],
    ['an unknown choice member', { content: 'ok' }, { stop_reason: 'MARK' }],
    // A member's name is text the client sees, even with a null value (the value check came first).
    ['an unknown message member named by its text, null', { content: 'ok', 'MARK the words': null }, {}],
    ['an unknown choice member named by its text, null', { content: 'ok' }, { 'MARK the words': null }],
    ['an unknown logprobs member', { content: 'ok' }, { logprobs: { content: null, 'MARK the words': 1 } }],
    ['an unknown member of a top_logprobs alternative', { content: 'ok' }, { logprobs: { content: [{ token: 'ok', logprob: -1, top_logprobs: [{ token: 'ok', logprob: -1, note: 'MARK' }] }] } }],
  ])('%s', (_name, message, choice) => {
    const turn = turnOf(chatAnswer(message, choice));
    expect([turn.content, ...(turn.toolCalls ?? [])].join('\n')).toContain('MARK');
  });

  test('an unknown top-level member is checked with every choice', () => {
    const json = { ...chatAnswer({ content: 'a' }), choices: [{ index: 0, message: { content: 'a' } }, { index: 1, message: { content: 'b' } }], note: 'MARK' };
    expect([...chatAdapter.answers(json, { model: 'm' }).values()].map((a) => answerTurn(a).content)).toEqual(['a\nnote\nMARK', 'b\nnote\nMARK']);
  });

  test.each([
    ['a hyphen-joined id', { id: 'you-are-so-MARK' }],
    ['a model other than the one asked for', { model: 'you-are-MARK' }],
    ['a system fingerprint', { system_fingerprint: 'you-are-so-MARK' }],
    ['a service tier engines never send', { service_tier: 'you-are-MARK' }],
    ['an object engines never send', { object: 'you-are-MARK' }],
    ['a usage member name', { usage: { prompt_tokens: 1, 'you-are-MARK': 1 } }],
    ['a nested usage member name', { usage: { prompt_tokens_details: { 'you-are-MARK': 1 } } }],
  ])('bookkeeping engines never send is read with every choice, apart from the answer: %s', (_name, extra) => {
    const answer = chatAdapter.answers({ ...chatAnswer({ content: 'a' }), ...extra }, { model: 'm' }).get(0)!;
    expect(bookkeepingText(answer)).toMatch(/you-are-(so-)?MARK/);
    // Never joined to the answer the guard reads: an id appended to a short harmful answer diluted its score.
    expect(answerTurn(answer).content).toBe('a');
  });

  test('bookkeeping engines send is not: opaque ids, the model asked for, known tiers and usage names', () => {
    const json = { ...chatAnswer({ content: 'a' }), id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT', system_fingerprint: 'fp_44709d6fcb', service_tier: 'default', usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } } };
    const bookkeepingOf = (j: Record<string, unknown>) => bookkeepingText(chatAdapter.answers(j, { model: 'm' }).get(0)!);
    expect(bookkeepingOf(json)).toBeUndefined();
    expect(bookkeepingOf({ ...json, id: '8c6d2b1e-4f3a-4b2c-9d1e-0a1b2c3d4e5f' })).toBeUndefined();
    // vLLM's chatcmpl-<request id>, the request id being the gateway's own.
    expect(bookkeepingOf({ ...json, id: 'chatcmpl-req_ae563112c4e45409aaa97912f2e0bf19' })).toBeUndefined();
    // Words however they are joined: +, @, camelCase, letters for vowels.
    for (const id of ['you+are+MARK', 'you@are@MARK', 'YouAreWorthlessMARK', 'k1ll-y0urself-n0w-pl3ase']) expect(bookkeepingOf({ ...json, id })).toBe(id);
  });

  test('an unknown top-level member named by its text is checked even when null; a null stop_reason is no text', () => {
    const json = { ...chatAnswer({ content: 'a' }, { stop_reason: null }), 'MARK the words': null };
    expect(turnOf(json).content).toBe('a\nMARK the words');
  });

  test('logprob tokens that only repeat the content are read once', () => {
    const turn = turnOf(chatAnswer({ content: 'ok' }, { logprobs: { content: [{ token: 'o', logprob: -1 }, { token: 'k', logprob: -1 }] } }));
    expect(turn.content).toBe('ok');
  });

  test('choices are read by position: a repeated index hides nothing', () => {
    const json = { choices: [{ index: 0, message: { content: 'a' } }, { index: 0, message: { content: 'MARK' } }] };
    expect([...chatAdapter.answers(json, { model: 'm' }).values()].map((a) => a.content)).toEqual(['a', 'MARK']);
  });

  test('completions: text, logprob tokens and their alternatives', () => {
    const json = { choices: [{ index: 0, text: 'ok', logprobs: { tokens: ['MA', 'RK'], token_logprobs: [-1, -1], top_logprobs: [{ o: -1, X1: -2 }, { k: -1, X2: -2 }], text_offset: [0, 1] } }] };
    const answer = textAdapter.answers(json, { model: 'm' }).get(0)!;
    expect(answer.content).toBe('ok');
    expect(answer.extras).toEqual([
      { lane: 'logprobs.tokens', text: 'MARK' },
      { lane: 'logprobs.top_logprobs[0]', text: 'ok' },
      { lane: 'logprobs.top_logprobs[1]', text: 'X1X2' },
    ].filter((e) => e.text !== 'ok'));
  });

  test.each([
    ['not an object', null],
    ['an array', []],
    ['no choices', { id: 'x' }],
    ['an error member', { error: { message: 'boom' } }],
    ['tool_calls an object', chatAnswer({ tool_calls: {} })],
    ['tool_calls [null]', chatAnswer({ tool_calls: [null] })],
    ['content a number', chatAnswer({ content: 42 })],
    ['arguments an object', chatAnswer({ tool_calls: [{ function: { name: 'f', arguments: { a: 1 } } }] })],
    ['logprobs content a string', chatAnswer({ content: 'x' }, { logprobs: { content: 'x' } })],
  ])('malformed (%s): an engine failure (502), not a crash', (_name, json) => {
    expect(() => chatAdapter.answers(json, { model: 'm' })).toThrow(EngineError);
  });
});

describe('streams: the same texts in deltas', () => {
  const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, ...extra }] })}`;
  async function read(events: string[]) {
    const body = Readable.from([Buffer.from(events.map((e) => `${e}\n\n`).join(''))]);
    const accumulator = new AnswerAccumulator({ model: 'm' });
    const seen = [];
    for await (const event of engineEvents({ status: 200, contentType: 'text/event-stream', body }, accumulator, chatAdapter)) seen.push(event);
    return { accumulator, seen };
  }

  test('bookkeeping engines never send is read: each new value of a restated member once, as a word of its own', async () => {
    const { accumulator } = await read([
      `data: ${JSON.stringify({ id: 'you-are-so-vile', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'Fine' } }] })}`,
      `data: ${JSON.stringify({ id: 'you-are-so-vile', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: ' thanks' } }] })}`,
      `data: ${JSON.stringify({ id: 'you-are-worthless-now', object: 'chat.completion.chunk', created: 1, model: 'm', system_fingerprint: 'fp_44709d6fcb', choices: [{ index: 0, delta: {} }], usage: { prompt_tokens: 1, 'kill-them': 2 } })}`,
      'data: [DONE]',
    ]);
    const answer = accumulator.answer(0);
    expect(answer.content).toBe('Fine thanks');
    expect(answer.extras).toEqual([
      { lane: 'bookkeeping:id', text: 'you-are-so-vile you-are-worthless-now' },
      { lane: 'bookkeeping:usage.kill-them#key', text: 'kill-them' },
    ]);
    // What the gateway would write itself after a block names none of it; the record keeps what the engine sent.
    expect(accumulator.writableMeta.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(accumulator.meta.id).toBe('you-are-so-vile');
  });

  test('an id, fingerprint or model that changes within a stream is read, each value plain or not: no phrase spread over chunks', async () => {
    const chunkWith = (id: string, content: string) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content } }] })}`;
    const { accumulator } = await read([chunkWith('x-you-are', 'A'), chunkWith('x-you-are', 'b'), chunkWith('x-so-vile', 'c'), chunkWith('x-MARK', 'd'), 'data: [DONE]']);
    expect(bookkeepingText(accumulator.answer(0))).toBe('x-you-are x-so-vile x-MARK');
    // A steady plain id is never read.
    const steady = await read([chunkWith('chatcmpl-1a2b', 'A'), chunkWith('chatcmpl-1a2b', 'b'), 'data: [DONE]']);
    expect(bookkeepingText(steady.accumulator.answer(0))).toBeUndefined();
  });

  test('reasoning, refusal, tool calls by index, function_call and logprobs accumulate per lane', async () => {
    const { accumulator } = await read([
      chunk({ role: 'assistant', reasoning_content: 'thin' }),
      chunk({ reasoning_content: 'king' }),
      chunk({ content: 'he' }, { logprobs: { content: [{ token: 'he', logprob: -1, top_logprobs: [{ token: 'X', logprob: -2 }] }] } }),
      chunk({ content: 'llo' }, { logprobs: { content: [{ token: 'llo', logprob: -1, top_logprobs: [{ token: 'Y', logprob: -2 }] }] } }),
      chunk({ tool_calls: [{ index: 1, id: 'c1', type: 'function', function: { name: 'g', arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: ':1}' } }] }),
      chunk({ function_call: { name: 'old', arguments: 'x' } }),
      chunk({ refusal: 'no' }),
      'data: [DONE]',
    ]);
    const answer = accumulator.answer(0);
    expect(answer.content).toBe('hello');
    expect(answer.toolCalls).toEqual([
      { name: 'g', arguments: '{"a":1}' },
      { name: 'f', arguments: '{}' },
      { name: 'old', arguments: 'x' },
    ]);
    expect(answer.extras).toEqual(
      expect.arrayContaining([
        { lane: 'reasoning_content', text: 'thinking' },
        { lane: 'logprobs.content.top_logprobs[0].token', text: 'XY' },
        { lane: 'refusal', text: 'no' },
      ]),
    );
    expect(answerTurn(answer).content.startsWith('thinking\nhello')).toBe(true);
    // Window mode reads any range of text-bearing events.
    expect(accumulator.window(3, 4, 0).content).toBe('llo');
    expect(accumulator.window(0, 2, 0).extras).toEqual([{ lane: 'reasoning_content', text: 'thinking' }]);
  });

  test('nothing after [DONE] is read; keep-alives are kept as bare comments, other lines rewritten', async () => {
    const { seen } = await read([': ping MARK', 'event: message\ndata: {"choices":[{"index":0,"delta":{"content":"a"}}]}', 'data: [DONE]', 'data: {"choices": 7}']);
    expect(seen.map((e) => e.raw)).toEqual([':\n\n', 'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n', 'data: [DONE]\n\n']);
  });

  test.each([
    ['not JSON', 'data: {"choices": [{"delta": {"content": "cut'],
    ['null', 'data: null'],
    ['a number', 'data: 42'],
    ['an error', 'data: {"error": {"message": "engine died"}}'],
    ['no choices', 'data: {"id": "x", "object": "chat.completion.chunk"}'],
    ['choices not a list', 'data: {"choices": 7}'],
    ['an empty data line', 'data: '],
    ['tool_calls an object', chunk({ tool_calls: {} })],
  ])('an event the gateway cannot read (%s) is an engine failure', async (_name, event) => {
    await expect(read([chunk({ content: 'a' }), event, 'data: [DONE]'])).rejects.toThrow(EngineError);
  });
});

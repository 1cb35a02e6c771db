import { couldExceedContext } from '../../../gateway/access/rateLimit/tokenLimits';
import { contextLengthError, contextWindow } from '../../../gateway/access/tokens/contextLength';
import { countTokens, countTokensSync, splitForCounting, tokenPieces } from '../../../gateway/access/tokens/llama3Tokens';
import { chatPromptShape, completionPromptShape, countPromptTokens, responsesPromptShape } from '../../../gateway/access/tokens/promptTokens';

describe('Llama 3 token pieces (the eval streams answers as the engine would)', () => {
  test('one piece per token, every character kept, a character split over byte tokens whole in one piece', () => {
    for (const text of ['Hello wörld — naïve 😀 test.', '日本語のテキスト🧑‍🚀 done', 'word '.repeat(5000)]) {
      const pieces = tokenPieces(text);
      expect(pieces.join('')).toBe(text);
      expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
      // Byte tokens of one character come together, as vLLM's detokenizer sends them.
      expect(pieces.length).toBeLessThanOrEqual(countTokensSync(text));
    }
    expect(tokenPieces('word '.repeat(100)).length).toBe(countTokensSync('word '.repeat(100)));
    expect(tokenPieces('')).toEqual([]);
  });
});

describe('Llama 3 token counting', () => {
  test('counts with the Llama 3 vocabulary', () => {
    expect(countTokensSync('hello world')).toBe(2);
    expect(countTokensSync('')).toBe(0);
  });

  test('long texts are cut at word starts, every character kept, no piece over the size', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(500);
    const pieces = splitForCounting(text, 1000);
    expect(pieces.join('')).toBe(text);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(1000);
    expect(pieces.slice(1).every((p) => p.startsWith(' '))).toBe(true);
  });

  test('a cut never splits a surrogate pair', () => {
    const text = 'a' + '😀'.repeat(2000);
    const pieces = splitForCounting(text, 101);
    expect(pieces.join('')).toBe(text);
    for (const p of pieces) expect(p).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  });

  test('piecewise counting of a long text matches counting it whole', async () => {
    const text = 'Counting tokens in pieces must give the same total as counting at once. '.repeat(400);
    expect(await countTokens(text)).toBe(countTokensSync(text));
  });

  test('a 300 KB run without spaces is counted (the tokenizer alone overflows its stack)', async () => {
    const n = await countTokens('x'.repeat(300_000));
    expect(n).toBeGreaterThan(10_000);
  });
});

describe('prompt size of a request', () => {
  test('chat: contents, parts, tool calls, tools and the template tokens', async () => {
    const shape = chatPromptShape({
      model: 'llama',
      max_tokens: 50,
      n: 2,
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: [{ type: 'text', text: 'hello world' }, { type: 'image_url', image_url: { url: 'x' } }] },
        { role: 'assistant', content: null, tool_calls: [{ function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
      ],
      tools: [{ type: 'function', function: { name: 'lookup' } }],
    });
    expect(shape).toMatchObject({ model: 'llama', maxTokens: 50, answers: 2, separateSequences: false });
    expect(shape.texts).toEqual(expect.arrayContaining(['You are helpful.', 'hello world', 'lookup', '{"q":"x"}']));
    const count = await countPromptTokens(shape);
    const bare = await countPromptTokens({ ...shape, fixedTokens: 0 });
    expect(count.total - bare.total).toBe(shape.fixedTokens);
    expect(shape.fixedTokens).toBe(31 + 4 * 3);
  });

  test('max_completion_tokens wins over max_tokens; junk shapes count as nothing', () => {
    expect(chatPromptShape({ messages: [], max_tokens: 5, max_completion_tokens: 9 }).maxTokens).toBe(9);
    expect(chatPromptShape({ messages: 'nope', max_tokens: -1 })).toMatchObject({ texts: [], maxTokens: undefined });
    expect(chatPromptShape({ messages: [null, 3, { role: 7, content: {} }] }).texts).toEqual([]);
  });

  test('chat: legacy functions and function calls, reasoning, refusals, a response schema and documents are prompt too', () => {
    const shape = chatPromptShape({
      messages: [{ role: 'assistant', content: null, function_call: { name: 'lookup', arguments: '{"q":"ARGS"}' }, reasoning_content: 'THOUGHT', refusal: 'NO' }],
      functions: [{ name: 'lookup', description: 'FUNCDESC' }],
      response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { description: 'SCHEMADESC' } } },
      documents: [{ title: 'T', text: 'DOCTEXT' }],
    });
    const all = shape.texts.join(' ');
    for (const word of ['lookup', 'ARGS', 'THOUGHT', 'NO', 'FUNCDESC', 'SCHEMADESC', 'DOCTEXT']) expect(all).toContain(word);
  });

  // The guards read these too, so the budget and the context check count them (200 KB in an unknown
  // message member was charged 40 tokens and held both cores for 15-24 s of guard time).
  test('every string the guards read is counted: unknown members and their names, part members, ids, scanned parameters', () => {
    const chat = chatPromptShape({
      model: 'MODELNAME',
      temperature: 0.5,
      user: 'USERID',
      tool_choice: { type: 'function', function: { name: 'CHOSEN' } },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi', NOTE1: 'PARTNOTE' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,IMAGEDATA' } }], notes: { deep: ['MEMBERNOTE'] } },
        { role: 'assistant', content: null, tool_calls: [{ id: 'CALLID', type: 'function', function: { name: 'f', arguments: '{}', extra: 'FNEXTRA' } }] },
        { role: 'tool', tool_call_id: 'TOOLCALLID', content: 'ok' },
      ],
    });
    const all = chat.texts.join(' ');
    for (const word of ['PARTNOTE', 'NOTE1', 'notes', 'deep', 'MEMBERNOTE', 'CALLID', 'FNEXTRA', 'TOOLCALLID', 'CHOSEN']) expect(all).toContain(word);
    // Not read by any guard: a media part, the model's name, parameters.
    for (const word of ['IMAGEDATA', 'MODELNAME', 'USERID', 'temperature']) expect(all).not.toContain(word);

    const responses = responsesPromptShape({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi', extra: 'ITEMPART' }], memo: 'ITEMMEMBER' }], tool_choice: { type: 'function', name: 'RCHOSEN' } });
    for (const word of ['ITEMPART', 'ITEMMEMBER', 'memo', 'RCHOSEN']) expect(responses.texts.join(' ')).toContain(word);
    const completion = completionPromptShape({ model: 'm', prompt: 'p', response_format: { type: 'json_schema', json_schema: { schema: { description: 'CSCHEMA' } } } });
    expect(completion.texts.join(' ')).toContain('CSCHEMA');
    // Shapes a first version missed (a review): a refusal part, a string format, a legacy call's other members, Responses `text`.
    const more = chatPromptShape({
      messages: [{ role: 'assistant', content: [{ type: 'refusal', refusal: 'REFUSALPART' }], function_call: { name: 'f', arguments: '{}', note: 'CALLNOTE' } }],
      response_format: 'STRINGFORMAT',
    }).texts.join(' ');
    for (const word of ['REFUSALPART', 'CALLNOTE', 'STRINGFORMAT']) expect(more).toContain(word);
    expect(responsesPromptShape({ input: 'hi', text: 'TEXTSTRING' }).texts.join(' ')).toContain('TEXTSTRING');
    const beside = responsesPromptShape({ input: 'hi', text: { format: { type: 'json_schema', schema: { description: 'FORMATDESC' } }, note: 'TEXTNOTE' } }).texts.join(' ');
    for (const word of ['FORMATDESC', 'TEXTNOTE']) expect(beside).toContain(word);
  });

  test('completions: a suffix is read with every prompt', () => {
    expect(completionPromptShape({ prompt: ['def f(', 'class A:'], suffix: '    return 1' }).texts).toEqual(['def f(    return 1', 'class A:    return 1']);
  });

  test('completions: each prompt is its own sequence', async () => {
    const shape = completionPromptShape({ prompt: ['one two three', 'four'], n: 3, max_tokens: 10 });
    expect(shape).toMatchObject({ answers: 6, separateSequences: true, maxTokens: 10 });
    const count = await countPromptTokens(shape);
    expect(count.longest).toBe(4); // "one two three" + <|begin_of_text|>
    expect(count.total).toBe(3 + 1 + 2);
  });

  test('completions without max_tokens reserve the endpoint default of 16 per answer; an explicit null lifts the cap', () => {
    expect(completionPromptShape({ prompt: ['a', 'b'] }).maxTokens).toBe(16);
    expect(completionPromptShape({ prompt: 'a', max_tokens: 300 }).maxTokens).toBe(300);
    expect(completionPromptShape({ prompt: 'a', max_tokens: null }).maxTokens).toBeUndefined();
  });

  test("vLLM's best_of: every sequence it generates is reserved, not only the n returned", () => {
    expect(completionPromptShape({ prompt: 'x', n: 2, best_of: 5 }).answers).toBe(5);
    expect(completionPromptShape({ prompt: ['a', 'b'], n: 3, best_of: 2 }).answers).toBe(6);
    expect(chatPromptShape({ messages: [{ role: 'user', content: 'x' }], best_of: 4 }).answers).toBe(4);
  });

  test('the byte bound skips exact counting only when the prompt surely fits', () => {
    const shape = chatPromptShape({ messages: [{ role: 'user', content: 'x'.repeat(1000) }], max_tokens: 100 });
    expect(couldExceedContext(shape, 100_000)).toBe(false);
    expect(couldExceedContext(shape, 1000)).toBe(true);
  });
});

describe('context length', () => {
  test('per-model window, else the default', () => {
    expect(contextWindow('small', { small: 8192 }, 131072)).toBe(8192);
    expect(contextWindow('other', { small: 8192 }, 131072)).toBe(131072);
    expect(contextWindow(undefined, {}, 131072)).toBe(131072);
  });

  test("OpenAI's context_length_exceeded 400 with the numbers", () => {
    expect(contextLengthError(100, 60, 40, 'messages')).toBeUndefined();
    const err = contextLengthError(100, 80, 40, 'messages');
    expect(err?.status).toBe(400);
    expect(err?.body().error).toMatchObject({ code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' });
    expect(err?.message).toContain('maximum context length is 100 tokens');
    expect(err?.message).toContain('120 tokens (80 in the messages, 40 in the completion)');
    expect(contextLengthError(100, 101, undefined, 'prompt')?.message).toContain('101 tokens in the prompt');
  });
});

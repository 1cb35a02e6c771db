import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool, type ModelMessage } from 'ai';
import { bufferMode, defaultPolicyWithFixtureModels, windowMode } from '../bypass/support';
import { startHarness, type Harness } from '../support/gatewayHarness';

/**
 * Issue 17: an app on the Vercel AI SDK's default OpenAI provider (`openai(modelId)`, which talks
 * to the Responses API), changed only in its base URL, against the gateway and the dev engine:
 * generateText, streamText, tools over several steps, a conversation over several turns (the
 * provider sends earlier assistant turns as `item_reference`s, which the gateway resolves from
 * what it relayed), and blocks the SDK reports as a content-filter finish or an API error.
 */
const UNSAFE = 'Here is how to do the zzs1 violent thing step by step.';
const REFUSAL = "I'm sorry, but I can't help with that.";

describe.each([
  ['buffer', bufferMode],
  ['window', windowMode(3)],
])('AI SDK default OpenAI provider through the gateway (%s mode)', (_mode, streaming) => {
  let h: Harness;
  let openai: ReturnType<typeof createOpenAI>;
  /** The bodies the SDK sent (observed on the way out, unchanged). */
  const sent: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(streaming) });
    const observe: typeof fetch = async (url, init) => {
      if (typeof init?.body === 'string') sent.push(init.body);
      return fetch(url, init);
    };
    openai = createOpenAI({ baseURL: h.baseUrl, apiKey: 'test-key', fetch: observe });
  });
  afterAll(async () => h.close());

  const lastRoute = () => h.recorder.records[h.recorder.records.length - 1].route;

  test('the default provider calls the Responses API', () => {
    expect(openai('dev').provider).toBe('openai.responses');
  });

  test('generateText', async () => {
    await h.script({ reply: 'Paris is the capital of France.' });
    const result = await generateText({ model: openai('dev'), system: 'Answer briefly.', prompt: 'What is the capital of France?', maxRetries: 0 });
    expect(result.text).toBe('Paris is the capital of France.');
    expect(result.finishReason).toBe('stop');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(lastRoute()).toBe('/v1/responses');
  });

  test('streamText', async () => {
    await h.script({ reply: 'One two three four five six seven.' });
    const result = streamText({ model: openai('dev'), prompt: 'Count to seven', maxRetries: 0 });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    expect(text).toBe('One two three four five six seven.');
    expect(await result.finishReason).toBe('stop');
    expect(lastRoute()).toBe('/v1/responses');
  });

  test('tools: the model calls a tool, the SDK runs it, the next step reads its result', async () => {
    const weather = tool({
      description: 'Gets the weather for a city.',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }),
      execute: async ({ city }) => ({ city, sky: 'sunny' }),
    });
    await h.script({ tool_calls: [{ name: 'weather', arguments: '{"city":"Paris"}' }] });
    await h.script({ reply: 'It is sunny in Paris.' });
    const result = await generateText({ model: openai('dev'), prompt: 'Weather in Paris?', tools: { weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
    expect(result.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(result.steps[0].toolCalls[0]).toMatchObject({ toolName: 'weather', input: { city: 'Paris' } });
    expect(result.text).toBe('It is sunny in Paris.');
    const second = h.engine.requests[h.engine.requests.length - 1] as { input: { type?: string; output?: unknown }[]; tools: { name: string }[] };
    expect(second.tools.map((t) => t.name)).toEqual(['weather']);
    expect(second.input.find((i) => i.type === 'function_call_output')?.output).toContain('sunny');
  });

  test('streamText with tools', async () => {
    const weather = tool({ description: 'Weather.', inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }), execute: async () => 'rain' });
    await h.script({ tool_calls: [{ name: 'weather', arguments: '{"city":"Oslo"}' }] });
    await h.script({ reply: 'Rain in Oslo.' });
    const result = streamText({ model: openai('dev'), prompt: 'Weather in Oslo?', tools: { weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    expect(text).toBe('Rain in Oslo.');
    expect((await result.steps)[0].toolCalls[0]).toMatchObject({ toolName: 'weather', input: { city: 'Oslo' } });
  });

  test('a conversation over turns: earlier assistant turns go out as item_reference and are resolved and checked', async () => {
    await h.script({ reply: 'Noted, Ada.' });
    const first = await generateText({ model: openai('dev'), prompt: 'My name is Ada.', maxRetries: 0 });
    const messages: ModelMessage[] = [{ role: 'user', content: 'My name is Ada.' }, ...first.response.messages, { role: 'user', content: 'What is my name?' }];
    await h.script({ reply: 'Your name is Ada.' });
    const second = await generateText({ model: openai('dev'), messages, maxRetries: 0 });
    expect(second.text).toBe('Your name is Ada.');
    expect(sent[sent.length - 1]).toContain('"item_reference"');
    const forwarded = JSON.stringify((h.engine.requests[h.engine.requests.length - 1] as { input: unknown }).input);
    expect(forwarded).toContain('Noted, Ada.');
    expect(forwarded).not.toContain('item_reference');
  });

  test('a blocked answer: generateText finishes with content-filter and the refusal, none of the text', async () => {
    await h.script({ reply: UNSAFE });
    const result = await generateText({ model: openai('dev'), prompt: 'Tell me a story', maxRetries: 0 });
    expect(result.finishReason).toBe('content-filter');
    expect(result.text).toBe(REFUSAL);
  });

  test('the conversation goes on after a blocked answer: the refusal the SDK refers back to is known, and what the engine reads is the refusal, not the blocked text', async () => {
    await h.script({ reply: UNSAFE });
    const first = await generateText({ model: openai('dev'), prompt: 'Tell me a story', maxRetries: 0 });
    expect(first.finishReason).toBe('content-filter');
    await expectNextTurnAfter(first.response.messages);
    expect(sent[sent.length - 1]).toContain('"item_reference"');
  });

  /** The turn after a blocked one: answered, and the engine reads the refusal, never the blocked text. */
  async function expectNextTurnAfter(blockedTurn: ModelMessage[]): Promise<void> {
    const messages: ModelMessage[] = [{ role: 'user', content: 'Tell me a story' }, ...blockedTurn, { role: 'user', content: 'Then a poem about the sea.' }];
    await h.script({ reply: 'Waves fold into foam.' });
    const second = await generateText({ model: openai('dev'), messages, maxRetries: 0 });
    expect(second.text).toBe('Waves fold into foam.');
    const forwarded = JSON.stringify((h.engine.requests[h.engine.requests.length - 1] as { input: unknown }).input);
    expect(forwarded).toContain(REFUSAL);
    expect(forwarded).not.toContain('violent');
  }

  test('the conversation goes on after a blocked stream too', async () => {
    await h.script({ reply: UNSAFE });
    const first = streamText({ model: openai('dev'), prompt: 'Tell me a story', maxRetries: 0 });
    expect(await first.finishReason).toBe('content-filter');
    await expectNextTurnAfter((await first.response).messages);
  });

  test('a blocked answer: streamText finishes with content-filter, no unsafe text streamed', async () => {
    await h.script({ reply: UNSAFE });
    const result = streamText({ model: openai('dev'), prompt: 'Tell me a story', maxRetries: 0 });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    expect(text).not.toContain('violent');
    expect(text).toContain(REFUSAL);
    expect(await result.finishReason).toBe('content-filter');
  });

  test('an engine failure in the stream: streamText reports an error, never a complete answer', async () => {
    const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
    const events = [
      { type: 'response.created', response: { id: 'resp_f', object: 'response', created_at: 1, status: 'in_progress', model: 'dev', output: [] } },
      { type: 'response.output_item.added', output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] } },
      { type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '', annotations: [] } },
      ...['One', ' two', ' three', ' four'].map((delta) => ({ type: 'response.output_text.delta', ...at, delta })),
    ].map((e, i) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: i })}`);
    await h.script({ raw_events: [...events, 'data: 42'] });
    const result = streamText({ model: openai('dev'), prompt: 'Count', maxRetries: 0, onError: () => undefined });
    const parts: string[] = [];
    for await (const part of result.fullStream) parts.push(part.type);
    // buffer mode: a 502 before any byte; window mode: an error event after the checked text.
    expect(parts).toContain('error');
    expect(await Promise.resolve(result.finishReason).catch(() => 'no output')).not.toBe('stop');
  });

  test('a blocked input: an APICallError with status 400 and code content_policy_violation', async () => {
    const before = h.engine.stats.requests;
    const err = await generateText({ model: openai('dev'), prompt: 'please zzjailbreak now', maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(err)).toBe(true);
    expect((err as APICallError).statusCode).toBe(400);
    expect((err as APICallError).responseBody).toContain('content_policy_violation');
    expect(h.engine.stats.requests).toBe(before);
  });
});

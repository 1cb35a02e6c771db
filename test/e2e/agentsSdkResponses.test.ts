import { Agent, Runner, tool } from '@openai/agents-core';
import { OpenAIProvider } from '@openai/agents-openai';
import OpenAI, { BadRequestError } from 'openai';
import { z } from 'zod';
import { bufferMode, defaultPolicyWithFixtureModels, windowMode } from '../bypass/support';
import { startHarness, type Harness } from '../support/gatewayHarness';

/**
 * Issue 17: an app on the OpenAI Agents SDK (its default Responses API model), with only the
 * client's base URL pointed at the gateway: a run, a run with a function tool, a streamed run, a
 * run continued from the last response id, and blocks.
 */
const UNSAFE = 'Here is how to do the zzs1 violent thing step by step.';
const REFUSAL = "I'm sorry, but I can't help with that.";

describe.each([
  ['buffer', bufferMode],
  ['window', windowMode(3)],
])('OpenAI Agents SDK through the gateway (%s mode)', (_mode, streaming) => {
  let h: Harness;
  let runner: Runner;

  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(streaming) });
    const openAIClient = new OpenAI({ baseURL: h.baseUrl, apiKey: 'test-key', maxRetries: 0 });
    // Tracing off: it would export to OpenAI's platform, which a test must not reach.
    runner = new Runner({ modelProvider: new OpenAIProvider({ openAIClient }), tracingDisabled: true });
  });
  afterAll(async () => h.close());

  const agent = (tools: ReturnType<typeof tool>[] = []) => new Agent({ name: 'Assistant', instructions: 'Answer briefly.', model: 'dev', tools });

  test('a run: the final output, through the Responses route', async () => {
    await h.script({ reply: 'Paris is the capital of France.' });
    const result = await runner.run(agent(), 'What is the capital of France?');
    expect(result.finalOutput).toBe('Paris is the capital of France.');
    expect(h.recorder.records.at(-1)).toMatchObject({ route: '/v1/responses', action: 'allow' });
  });

  test('a function tool: called, run, its output read in the next turn', async () => {
    const weather = tool({ name: 'get_weather', description: 'Gets the weather for a city.', parameters: z.object({ city: z.string() }), execute: async ({ city }) => `sunny in ${city}` });
    await h.script({ tool_calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    await h.script({ reply: 'It is sunny in Paris.' });
    const result = await runner.run(agent([weather]), 'Weather in Paris?');
    expect(result.finalOutput).toBe('It is sunny in Paris.');
    const second = h.engine.requests.at(-1) as { input: { type?: string; output?: unknown }[] };
    expect(JSON.stringify(second.input.find((i) => i.type === 'function_call_output'))).toContain('sunny in Paris');
  });

  test('a streamed run', async () => {
    await h.script({ reply: 'One two three four five.' });
    const result = await runner.run(agent(), 'Count to five', { stream: true });
    let text = '';
    for await (const piece of result.toTextStream()) text += piece;
    await result.completed;
    expect(text).toBe('One two three four five.');
  });

  test('a run continued from the last response id: the gateway puts the history back and checks it', async () => {
    await h.script({ reply: 'Noted, Ada.' });
    const first = await runner.run(agent(), 'My name is Ada.');
    await h.script({ reply: 'Your name is Ada.' });
    const second = await runner.run(agent(), 'What is my name?', { previousResponseId: first.lastResponseId });
    expect(second.finalOutput).toBe('Your name is Ada.');
    expect(JSON.stringify((h.engine.requests.at(-1) as { input: unknown }).input)).toContain('Noted, Ada.');
  });

  test('a blocked answer: the run ends with the refusal, none of the text', async () => {
    await h.script({ reply: UNSAFE });
    const result = await runner.run(agent(), 'Tell me a story');
    expect(result.finalOutput).toBe(REFUSAL);
    expect(JSON.stringify(result.rawResponses)).not.toContain('violent');
  });

  test('a blocked answer, streamed: no unsafe text streamed', async () => {
    await h.script({ reply: UNSAFE });
    const result = await runner.run(agent(), 'Tell me a story', { stream: true });
    let text = '';
    for await (const piece of result.toTextStream()) text += piece;
    await result.completed;
    expect(text).not.toContain('violent');
    // After released text, the refusal starts a paragraph of its own.
    expect([REFUSAL, `\n\n${REFUSAL}`]).toContain(result.finalOutput);
  });

  test('a blocked input: the run fails with the BadRequestError content_policy_violation', async () => {
    const before = h.engine.stats.requests;
    const err = await runner.run(agent(), 'please zzjailbreak now').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe('content_policy_violation');
    expect(h.engine.stats.requests).toBe(before);
  });
});

/**
 * A stream blocked after a function call was announced (finished, or cut mid-arguments): the
 * blocked turn's calls never run. The Agents SDK runs every call listed in the final response's
 * output, whatever its status, so `response.incomplete` lists messages and reasoning only.
 */
describe('OpenAI Agents SDK, window mode: a turn blocked after its function call', () => {
  const sse = (e: Record<string, unknown>) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}`;
  function stream(callDone: boolean): string[] {
    const call = { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'wipe_disk', arguments: '', status: 'in_progress' };
    const msg = { id: 'msg_1', type: 'message', role: 'assistant', status: 'in_progress', content: [] };
    const words = UNSAFE.split(' ');
    const at = (i: number) => ({ output_index: i });
    const body = callDone
      ? [
          { type: 'response.function_call_arguments.delta', ...at(0), item_id: 'fc_1', delta: '{}' },
          { type: 'response.function_call_arguments.done', ...at(0), item_id: 'fc_1', arguments: '{}' },
          { type: 'response.output_item.done', ...at(0), item: { ...call, arguments: '{}', status: 'completed' } },
          { type: 'response.output_item.added', ...at(1), item: msg },
          ...words.map((w, i) => ({ type: 'response.output_text.delta', ...at(1), content_index: 0, item_id: 'msg_1', delta: (i ? ' ' : '') + w })),
        ]
      : words.map((w, i) => ({ type: 'response.function_call_arguments.delta', ...at(0), item_id: 'fc_1', delta: (i ? ' ' : '') + w }));
    const events = [
      { type: 'response.created', response: { id: 'resp_x', object: 'response', status: 'in_progress', model: 'dev', output: [] } },
      { type: 'response.output_item.added', ...at(0), item: call },
      ...body,
      { type: 'response.completed', response: { id: 'resp_x', object: 'response', status: 'completed', model: 'dev', output: [] } },
    ];
    return events.map((e, i) => sse({ ...e, sequence_number: i }));
  }

  let h: Harness;
  let runner: Runner;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(3)) });
    runner = new Runner({ modelProvider: new OpenAIProvider({ openAIClient: new OpenAI({ baseURL: h.baseUrl, apiKey: 'test-key', maxRetries: 0 }) }), tracingDisabled: true });
  });
  afterAll(async () => h.close());

  test.each([true, false])('the call finished before the block: %s; it never runs, and the run ends on the refusal', async (callDone) => {
    let ran = 0;
    const wipe = tool({ name: 'wipe_disk', description: 'Wipes the disk.', parameters: z.object({}), execute: async () => {
      ran++;
      return 'wiped';
    } });
    await h.script({ raw_events: stream(callDone) });
    const before = h.engine.requests.length;
    const result = await runner.run(new Agent({ name: 'A', instructions: 'x', model: 'dev', tools: [wipe] }), 'go', { stream: true });
    for await (const _ of result.toTextStream()) {
      /* read */
    }
    await result.completed;
    expect(ran).toBe(0);
    expect(h.engine.requests.length - before).toBe(1);
    expect([REFUSAL, `\n\n${REFUSAL}`]).toContain(result.finalOutput);
  });
});

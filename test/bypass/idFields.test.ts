import OpenAI from 'openai';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, chatAnswer, chatEvents, defaultPolicyWithFixtureModels, responseAnswer, responseStream, windowMode } from './support';

/**
 * Ids an engine gives tool calls and Responses items and calls are not read with the answer (a
 * long random one diluted a harmful answer's score): only random ones are left unread; an id with
 * words, spaces or other scripts is read apart (pipeline/extract/bookkeeping.ts randomId), so unsafe
 * text riding in one never reaches the client. Found by a review of d95b740, which left every id of
 * two words or fewer unread.
 */
/** zzs1: the fixture content guard's S1 marker (p(unsafe) 0.993 anywhere in a text). */
const SENTENCE = 'You are zzs1 and should zzs1 yourself nobody would miss you';
const TWO = 'zzs1-zzs1';

const post = (h: Harness, route: string, body: Record<string, unknown>) =>
  fetch(`${h.baseUrl}/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe.each([['buffer', bufferMode], ['window', windowMode(2)]] as const)('bypass: ids carrying unsafe text (%s mode)', (_mode, mode) => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(mode) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  test('control: the marker in content is blocked', async () => {
    await h.script({ raw_json: chatAnswer({ content: SENTENCE }) });
    const data = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'go' }] });
    expect(JSON.stringify(data)).not.toContain('zzs1');
  });

  test.each([SENTENCE, TWO, 'Убей себя zzs1'])('chat, whole: tool_calls[].id %j', async (id) => {
    await h.script({ raw_json: chatAnswer({ content: null, tool_calls: [{ id, type: 'function', function: { name: 'lookup', arguments: '{}' } }] }, { finish_reason: 'tool_calls' }) });
    const data = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'go' }] });
    expect(JSON.stringify(data)).not.toContain('zzs1');
  });

  test("chat, streamed: a stream's id changed on its usage chunk is read as text, and after the block the usage chunk carries the gateway's id, not the blocked one (stream hunt)", async () => {
    const chunk = (id: string, extra: Record<string, unknown>) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: 'dev', ...extra })}`;
    await h.script({
      raw_events: [
        chunk('chatcmpl-s1', { choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }] }),
        chunk('chatcmpl-s1', { choices: [{ index: 0, delta: { content: ' there' }, finish_reason: 'stop' }] }),
        chunk('zzs11', { choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
        'data: [DONE]',
      ],
    });
    const res = await post(h, 'chat/completions', { model: 'dev', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] });
    const text = await res.text();
    expect(h.recorder.records.at(-1)?.action).toBe('block');
    expect(text).toContain('"usage"');
    expect(text).not.toContain('zzs1');
  });

  test('chat, streamed: tool_calls[].id', async () => {
    await h.script({ raw_events: chatEvents([{ tool_calls: [{ index: 0, id: SENTENCE, type: 'function', function: { name: 'lookup', arguments: '' } }] }, { tool_calls: [{ index: 0, function: { arguments: '{}' } }] }]) });
    const text = await (await post(h, 'chat/completions', { model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] })).text();
    expect(text).not.toContain('zzs1');
  });

  test('chat, streamed: a tool-call id sent in pieces is judged joined, as the openai SDKs join them', async () => {
    await h.script({ raw_events: chatEvents([{ tool_calls: [{ index: 0, id: 'zz', type: 'function', function: { name: 'lookup', arguments: '' } }] }, { tool_calls: [{ index: 0, id: 's1', function: { arguments: '{}' } }] }]) });
    const text = await (await post(h, 'chat/completions', { model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] })).text();
    // What a client joining the pieces would hold: never the marker.
    const ids = text.split('\n').filter((l) => l.startsWith('data: {')).flatMap((l) => (JSON.parse(l.slice(6)) as { choices: { delta?: { tool_calls?: { id?: string }[] } }[] }).choices.flatMap((c) => c.delta?.tool_calls ?? []).map((t) => t.id ?? ''));
    expect(ids.join('')).not.toContain('zzs1');
    expect(text).toContain('content_filter');
  });

  test("chat, streamed: a tool-call id whose joined pieces look random but whose last piece is words is read by that piece, as the Node SDK keeps it (it replaces the id with each piece)", async () => {
    await h.script({ raw_events: chatEvents([{ tool_calls: [{ index: 0, id: 'call_1234567890123456789012', type: 'function', function: { name: 'lookup', arguments: '' } }] }, { tool_calls: [{ index: 0, id: 'zzs1', function: { arguments: '{}' } }] }]) });
    const stream = await client.chat.completions.stream({ model: 'dev', messages: [{ role: 'user', content: 'go' }] });
    const done = await stream.finalChatCompletion().catch((e: unknown) => e);
    expect(JSON.stringify(done)).not.toContain('zzs1');
    expect(h.recorder.records.at(-1)?.action).toBe('block');
  });

  test.each([
    ['first, as the Vercel AI SDK keeps it', ['zzs1', '0000000000000000000000']],
    ['in the middle', ['call_1234567890123456789012', 'zzs1', 'call_1234567890123456789012']],
  ])('chat, streamed: a tool-call id piece that reads as words is read wherever it comes (%s)', async (_where, ids) => {
    await h.script({ raw_events: chatEvents(ids.map((id, i) => ({ tool_calls: [{ index: 0, id, ...(i === 0 ? { type: 'function', function: { name: 'lookup', arguments: '' } } : { function: { arguments: i === ids.length - 1 ? '{}' : '' } }) }] }))) });
    const text = await (await post(h, 'chat/completions', { model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] })).text();
    expect(text).not.toContain('zzs1');
    expect(h.recorder.records.at(-1)?.action).toBe('block');
  });

  test('responses, whole: function_call call_id (any string) and message item id (two words)', async () => {
    await h.script({ raw_json: responseAnswer([{ id: 'fc_1', type: 'function_call', status: 'completed', call_id: SENTENCE, name: 'lookup', arguments: '{}' }]) });
    const a = await client.responses.create({ model: 'dev', input: 'go' });
    await h.script({ raw_json: responseAnswer([{ id: TWO, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Fine.', annotations: [] }] }]) });
    const b = await client.responses.create({ model: 'dev', input: 'go' });
    expect(JSON.stringify([a, b])).not.toContain('zzs1');
  });

  test('responses, streamed: call_id of a function call', async () => {
    const item = { id: 'fc_1', type: 'function_call', status: 'in_progress', call_id: SENTENCE, name: 'lookup', arguments: '' };
    await h.script({ raw_events: responseStream([
      { type: 'response.output_item.added', output_index: 0, item },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: '{}' },
      { type: 'response.function_call_arguments.done', item_id: 'fc_1', output_index: 0, arguments: '{}' },
      { type: 'response.output_item.done', output_index: 0, item: { ...item, arguments: '{}', status: 'completed' } },
    ], [{ ...item, arguments: '{}', status: 'completed' }]) });
    const text = await (await post(h, 'responses', { model: 'dev', stream: true, input: 'go' })).text();
    expect(text).not.toContain('zzs1');
  });
});

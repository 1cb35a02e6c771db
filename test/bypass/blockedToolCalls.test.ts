import OpenAI from 'openai';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { defaultPolicyWithFixtureModels, windowMode } from './support';

/**
 * Chat streaming, window mode (the default): a turn the output guard blocks must not leave the
 * client holding tool calls, since the openai SDK's runTools (and hand-written loops over
 * message.tool_calls) run every call of the final message whatever its finish_reason.
 * /v1/responses already leaves calls out of a blocked turn (releasedItems.ts); chat does not.
 */
const ev = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}`;
const piece = (index: number, fn: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ tool_calls: [{ index, ...extra, function: fn }] });

// Two parallel calls: the first complete and harmless, the second's arguments turn unsafe after a few windows.
const EVENTS = [
  ev({ role: 'assistant', content: null }),
  ev(piece(0, { name: 'delete_files', arguments: '' }, { id: 'call_aaa111', type: 'function' })),
  ev(piece(0, { arguments: '{"path": "/tmp/x"}' })),
  ev(piece(1, { name: 'send_message', arguments: '' }, { id: 'call_bbb222', type: 'function' })),
  ...['{"text":', ' "one', ' two', ' three', ' four', ' five', ' zzs1', ' violent', ' thing"}'].map((a) => ev(piece(1, { arguments: a }))),
  ev({}, 'tool_calls'),
  'data: [DONE]',
];

describe('a blocked streamed chat turn and its tool calls (window mode)', () => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(3)) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'test-key', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  test('finalChatCompletion of a content_filter turn holds no tool calls', async () => {
    await h.script({ raw_events: EVENTS });
    const final = await client.chat.completions
      .stream({ model: 'dev', messages: [{ role: 'user', content: 'Clean up and tell them' }], tools: [{ type: 'function', function: { name: 'delete_files', parameters: { type: 'object' } } }, { type: 'function', function: { name: 'send_message', parameters: { type: 'object' } } }] })
      .finalChatCompletion();
    expect(final.choices[0].finish_reason).toBe('content_filter');
    expect(final.choices[0].message.tool_calls ?? []).toEqual([]);
  });

  test('runTools does not run a call of a blocked turn', async () => {
    await h.script({ raw_events: EVENTS });
    await h.script({ reply: 'Done.' });
    const ran: string[] = [];
    const fn = (name: string) => ({ type: 'function' as const, function: { name, description: name, parameters: { type: 'object', properties: {} }, function: async () => { ran.push(name); return 'ok'; }, parse: JSON.parse } });
    await client.chat.completions
      .runTools({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'Clean up and tell them' }], tools: [fn('delete_files'), fn('send_message')] })
      .finalContent()
      .catch(() => undefined);
    expect(ran).toEqual([]);
  });
});

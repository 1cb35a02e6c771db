import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, defaultPolicyWithFixtureModels, ssePayloads, windowMode } from './support';

/**
 * Engine members the gateway does not know, named like the fields it reads (`content` beside a
 * delta or at the top of a chunk, `reasoning_content`, a key spelled `tool_calls[0].function.arguments`,
 * a key with a dot in a tool call): their text has lanes of its own. Read into the known field's
 * lane, a space there split `zz` + `s11` for the guard while the client, which ignores the member,
 * showed `zzs11`.
 */
const UNSAFE = 'zzs11';
const chunk = (choice: Record<string, unknown>, top: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [{ index: 0, logprobs: null, finish_reason: null, ...choice }], ...top })}`;
const stop = chunk({ delta: {}, finish_reason: 'stop' });

const logprobTokens = (events: string[]) =>
  events.map((e) => ((JSON.parse(e) as { choices?: { logprobs?: { content?: { token: string }[] } | null }[] }).choices?.[0]?.logprobs?.content ?? []).map((t) => t.token).join('')).join('');
const withToken = (token: string) => chunk({ delta: { content: 'x' }, logprobs: { content: [{ token, logprob: -0.1, top_logprobs: [] }] } });

const STREAMS: [string, string[], (events: string[]) => string][] = [
  [
    'a logprobs member spelled like the chosen tokens\' lane',
    [chunk({ delta: { role: 'assistant', content: '' } }), withToken('zz'), chunk({ delta: {}, logprobs: { content: [], 'content.token': ' ' } }), withToken('s11'), stop, 'data: [DONE]'],
    logprobTokens,
  ],
  [
    // One member, a[1], continued over chunks; a[2] between them is another member, not part of its text.
    'a member whose quoted name holds an index',
    [chunk({ delta: { role: 'assistant', content: '' } }, { note: { 'a[1]': 'zz' } }), chunk({ delta: {} }, { note: { 'a[2]': ' ' } }), chunk({ delta: {} }, { note: { 'a[1]': 's11' } }), stop, 'data: [DONE]'],
    (events) => events.map((e) => (JSON.parse(e) as { note?: Record<string, string> }).note?.['a[1]'] ?? '').join(''),
  ],
  [
    'a `content` member beside the delta',
    [chunk({ delta: { role: 'assistant', content: '' } }), chunk({ delta: { content: 'Here: zz' } }), chunk({ delta: {}, content: ' ' }), chunk({ delta: { content: 's11 done' } }), stop, 'data: [DONE]'],
    (events) => events.map((e) => (JSON.parse(e) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content ?? '').join(''),
  ],
  [
    'a `content` member at the top of a chunk',
    [chunk({ delta: { role: 'assistant', content: '' } }), chunk({ delta: { content: 'Here: zz' } }), chunk({ delta: {} }, { content: ' ' }), chunk({ delta: { content: 's11 done' } }), stop, 'data: [DONE]'],
    (events) => events.map((e) => (JSON.parse(e) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content ?? '').join(''),
  ],
  [
    'a `reasoning_content` member at the top of a chunk',
    [chunk({ delta: { role: 'assistant', reasoning_content: 'Think: zz' } }), chunk({ delta: {} }, { reasoning_content: '-' }), chunk({ delta: { reasoning_content: 's11' } }), chunk({ delta: { content: 'ok' } }), stop, 'data: [DONE]'],
    (events) => events.map((e) => (JSON.parse(e) as { choices?: { delta?: { reasoning_content?: string } }[] }).choices?.[0]?.delta?.reasoning_content ?? '').join(''),
  ],
  [
    'a key spelled like a tool call argument lane',
    [
      chunk({ delta: { role: 'assistant', tool_calls: [{ index: 0, id: 't1', type: 'function', function: { name: 'f', arguments: '{"t":"zz' } }] } }),
      chunk({ delta: {}, 'tool_calls[0].function.arguments': '-' }),
      chunk({ delta: { tool_calls: [{ index: 0, function: { arguments: 's11"}' } }] } }),
      chunk({ delta: {}, finish_reason: 'tool_calls' }),
      'data: [DONE]',
    ],
    (events) => events.map((e) => (JSON.parse(e) as { choices?: { delta?: { tool_calls?: { function?: { arguments?: string } }[] } }[] }).choices?.[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '').join(''),
  ],
  [
    'a key with a dot inside a tool call',
    [
      chunk({ delta: { role: 'assistant', tool_calls: [{ index: 0, id: 't1', type: 'function', function: { name: 'f', arguments: '{"t":"zz' } }] } }),
      chunk({ delta: { tool_calls: [{ index: 0, 'function.arguments': '-' }] } }),
      chunk({ delta: { tool_calls: [{ index: 0, function: { arguments: 's11"}' } }] } }),
      chunk({ delta: {}, finish_reason: 'tool_calls' }),
      'data: [DONE]',
    ],
    (events) => events.map((e) => (JSON.parse(e) as { choices?: { delta?: { tool_calls?: { function?: { arguments?: string } }[] } }[] }).choices?.[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '').join(''),
  ],
];

describe.each([
  ['window', windowMode(2)],
  ['buffer', bufferMode],
])('bypass: members named like known fields (%s mode)', (_mode, edit) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(edit) });
  });
  afterAll(async () => h.close());

  test.each(STREAMS)('%s never delivers the phrase it split', async (_name, events, delivered) => {
    await h.script({ raw_events: events });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] }) });
    const text = await res.text();
    // What a client assembles from the field it reads: never the whole phrase.
    const payloads = res.status === 200 ? ssePayloads(text).filter((p) => p !== '[DONE]' && !p.includes('"error"')) : [];
    expect(delivered(payloads)).not.toContain(UNSAFE);
    expect(text).not.toContain(UNSAFE);
    expect(h.recorder.records[h.recorder.records.length - 1].action).toBe('block');
  });
});

/**
 * Window mode re-reads the end of the text a window continues: counted in that field's own events,
 * so deltas of another field between two pieces of a phrase (reasoning between content) cannot
 * push the first piece out of the overlap and release the phrase in two passing windows.
 */
describe('bypass: other fields\' deltas between two pieces of a phrase (window mode)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(2)) });
  });
  afterAll(async () => h.close());

  test.each([1, 3])('%i reasoning delta(s) between zz and s11: the client never gets both', async (between) => {
    const events = [
      chunk({ delta: { role: 'assistant', content: '' } }),
      chunk({ delta: { content: 'One' } }),
      chunk({ delta: { content: ' two' } }),
      chunk({ delta: { content: ' zz' } }),
      ...Array.from({ length: between }, () => chunk({ delta: { reasoning_content: ' ' } })),
      chunk({ delta: { content: 's11' } }),
      chunk({ delta: { content: ' three' } }),
      chunk({ delta: { content: ' four' } }),
      stop,
      'data: [DONE]',
    ];
    await h.script({ raw_events: events });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] }) });
    const payloads = ssePayloads(await res.text()).filter((p) => p !== '[DONE]' && !p.includes('"error"'));
    const content = payloads.map((p) => (JSON.parse(p) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content ?? '').join('');
    expect(content).not.toContain(UNSAFE);
    expect(h.recorder.records[h.recorder.records.length - 1].action).toBe('block');
  });
});

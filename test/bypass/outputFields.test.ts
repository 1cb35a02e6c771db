import OpenAI from 'openai';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { bufferMode, chatAnswer, chatEvents, defaultPolicyWithFixtureModels, ssePayloads, windowMode } from './support';

/**
 * Issue 13, output fields: the engine answers with unsafe text (zzs11) in each field a client
 * receives. Under the default policy the answer is blocked (finish_reason content_filter), and the
 * unsafe text never reaches the client, streamed (buffer and window modes) or not.
 */
const UNSAFE = 'zzs11';

/** Non-streamed answers, each hiding the unsafe text in one field (the visible content is harmless). */
const WHOLE: [string, Record<string, unknown>][] = [
  ['reasoning_content', chatAnswer({ content: 'Fine.', reasoning_content: `Plan: ${UNSAFE}` })],
  ['reasoning', chatAnswer({ content: 'Fine.', reasoning: `Plan: ${UNSAFE}` })],
  ['refusal', chatAnswer({ content: null, refusal: `I will not, but: ${UNSAFE}` })],
  ['content as a list of parts', chatAnswer({ content: [{ type: 'text', text: 'Fine. ' }, { type: 'text', text: UNSAFE }] })],
  ['legacy function_call.arguments', chatAnswer({ content: null, function_call: { name: 'post', arguments: `{"text":"${UNSAFE}"}` } }, { finish_reason: 'function_call' })],
  ['tool_calls function.name', chatAnswer({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: UNSAFE, arguments: '{}' } }] }, { finish_reason: 'tool_calls' })],
  // The client decodes the arguments' JSON escapes: \u007a is a `z` to it.
  ['tool_calls arguments in JSON escapes', chatAnswer({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'post', arguments: `{"text":"${[...UNSAFE].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}` } }] }, { finish_reason: 'tool_calls' })],
  // A member named twice, with an escape elsewhere: the arguments' JSON parse kept the last, and the first went unread (stream hunt).
  ['tool_calls arguments naming a member twice', chatAnswer({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'post', arguments: `{"text":"${UNSAFE}","text":"line one\\nline two"}` } }] }, { finish_reason: 'tool_calls' })],
  ['logprobs.content tokens', chatAnswer({ content: 'Fine.' }, { logprobs: { content: [{ token: 'Fine', logprob: -0.1, bytes: null, top_logprobs: [] }, { token: ` ${UNSAFE}`, logprob: -0.1, bytes: null, top_logprobs: [] }] } })],
  ['logprobs top_logprobs tokens', chatAnswer({ content: 'Fine.' }, { logprobs: { content: [{ token: 'Fine.', logprob: -0.1, bytes: null, top_logprobs: [{ token: 'Fine.', logprob: -0.1 }, { token: UNSAFE, logprob: -3 }] }] } })],
  ['an unknown member', chatAnswer({ content: 'Fine.', audio: { transcript: UNSAFE } })],
];

/** Streamed answers: the same fields in deltas (and the choice's logprobs). */
// Three members each: jest reads a test function with more parameters than the row as one taking `done`.
const STREAMED: [string, Record<string, unknown>[], Record<string, unknown>[]][] = [
  ['reasoning_content', [{ reasoning_content: 'Plan: ' }, { reasoning_content: UNSAFE }, { content: 'Fine.' }], []],
  ['refusal', [{ refusal: 'No: ' }, { refusal: UNSAFE }], []],
  ['legacy function_call.arguments', [{ function_call: { name: 'post', arguments: '{"text":"' } }, { function_call: { arguments: `${UNSAFE}"}` } }], []],
  ['tool_calls arguments', [{ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'post', arguments: '{"text":"' } }] }, { tool_calls: [{ index: 0, function: { arguments: `${UNSAFE}"}` } }] }], []],
  ['tool_calls arguments naming a member twice', [{ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'post', arguments: `{"text":"${UNSAFE}",` } }] }, { tool_calls: [{ index: 0, function: { arguments: '"text":"line one\\nline two"}' } }] }], []],
  ['logprobs tokens', [{ content: 'Fine' }, { content: '.' }], [{ logprobs: { content: [{ token: 'Fine', logprob: -1, top_logprobs: [] }] } }, { logprobs: { content: [{ token: UNSAFE, logprob: -1, top_logprobs: [] }] } }]],
  ['content parts', [{ content: [{ type: 'text', text: UNSAFE }] }], []],
  // A `message` beside each delta (no engine should send one in a stream; it reaches the client all the same): read as a lane of its own, so the deltas do not split its text.
  ['a message member beside the deltas, its text split over two chunks', [{ content: 'a' }, { content: 'b' }], [{ message: { content: UNSAFE.slice(0, 2) } }, { message: { content: UNSAFE.slice(2) } }]],
];

function expectBlockedStream(body: string): void {
  expect(body).not.toContain(UNSAFE);
  const payloads = ssePayloads(body);
  expect(payloads[payloads.length - 1]).toBe('[DONE]');
  expect(payloads.some((p) => p.includes('"content_filter"'))).toBe(true);
}

describe('bypass: answer fields under the default policy', () => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(bufferMode) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  test.each(WHOLE)('not streamed: unsafe text in %s is blocked', async (_name, answer) => {
    await h.script({ raw_json: answer });
    const { data, response } = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }).withResponse();
    expect(response.headers.get('x-safety-verdict')).toBe('block');
    expect(data.choices[0].finish_reason).toBe('content_filter');
    expect(JSON.stringify(data)).not.toContain(UNSAFE);
    expect(h.recorder.records[h.recorder.records.length - 1].outputs[0].decision).toMatchObject({ action: 'block', decidingRule: 'unsafe-answer' });
  });

  test.each(STREAMED)('streamed (buffer): unsafe text in %s is blocked', async (_name, deltas, extras) => {
    await h.script({ raw_events: chatEvents(deltas, extras) });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] }) });
    expectBlockedStream(await res.text());
  });

  test('streamed through the openai client: reasoning_content is blocked, the client sees content_filter', async () => {
    await h.script({ raw_events: chatEvents([{ reasoning_content: UNSAFE }, { content: 'Fine.' }]) });
    const stream = await client.chat.completions.create({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] });
    const seen: string[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      seen.push(JSON.stringify(chunk));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(seen.join('')).not.toContain(UNSAFE);
    expect(finish).toBe('content_filter');
  });

  test('completions: logprobs.tokens and top_logprobs are checked, streamed or not', async () => {
    const choice = { index: 0, text: 'Fine.', logprobs: { tokens: ['Fine', UNSAFE], token_logprobs: [-1, -1], top_logprobs: [{ Fine: -1 }, { '.': -1 }], text_offset: [0, 4] }, finish_reason: 'stop' };
    await h.script({ raw_json: { id: 'cmpl-b', object: 'text_completion', created: 1, model: 'dev', choices: [choice] } });
    const whole = await client.completions.create({ model: 'dev', prompt: 'go' });
    expect(whole.choices[0].finish_reason).toBe('content_filter');
    expect(JSON.stringify(whole)).not.toContain(UNSAFE);
    const chunk = (text: string, top: Record<string, number>) => `data: ${JSON.stringify({ id: 'cmpl-s', object: 'text_completion', created: 1, model: 'dev', choices: [{ index: 0, text, logprobs: { tokens: [text], token_logprobs: [-1], top_logprobs: [top], text_offset: [0] }, finish_reason: null }] })}`;
    await h.script({ raw_events: [chunk('Fine', { Fine: -1 }), chunk('.', { '.': -1, [UNSAFE]: -2 }), 'data: [DONE]'] });
    const res = await fetch(`${h.baseUrl}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, prompt: 'go' }) });
    expectBlockedStream(await res.text());
  });

  test('a harmless answer with the same fields passes unchanged', async () => {
    const answer = chatAnswer({ content: 'Fine.', reasoning_content: 'Plan: be brief.' }, { logprobs: { content: [{ token: 'Fine.', logprob: -0.1, bytes: null, top_logprobs: [{ token: 'Fine.', logprob: -0.1 }, { token: 'Good.', logprob: -3 }] }] } });
    await h.script({ raw_json: answer });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) });
    expect(await res.json()).toEqual(answer);
  });
});

describe('bypass: answer fields in window mode (text released as it is checked)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(2)) });
  });
  afterAll(async () => h.close());

  test.each(STREAMED)('unsafe text in %s never reaches the client', async (_name, deltas, extras) => {
    await h.script({ raw_events: chatEvents(deltas, extras) });
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] }) });
    expectBlockedStream(await res.text());
  });

  test('a block after checked text went out is recorded as partly delivered; one before any is not', async () => {
    const body = JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] });
    await h.script({ raw_events: chatEvents([{ content: 'One' }, { content: ' two' }, { content: ' three' }, { content: ' four' }, { content: ` ${UNSAFE}` }, { content: ' six' }]) });
    expect(await (await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text()).toContain('One');
    expect(h.recorder.records.at(-1)).toMatchObject({ action: 'block', status: 200, partial: true });
    await h.script({ raw_events: chatEvents([{ content: UNSAFE }, { content: ' six' }]) });
    await (await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
    expect(h.recorder.records.at(-1)).toMatchObject({ action: 'block', status: 200 });
    expect(h.recorder.records.at(-1)?.partial).toBeUndefined();
  });
});

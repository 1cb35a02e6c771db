import { fixturePolicyVariant } from '../../support/policyFiles';
import { readSse, startHarness, type Harness } from '../../support/gatewayHarness';

interface Chunk {
  choices: { index: number; delta: { content?: string; tool_calls?: unknown[] }; finish_reason: string | null }[];
  usage?: unknown;
}

const streamChat = (h: Harness, extra: Record<string, unknown> = {}) =>
  fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }], ...extra }) });

function contentOf(events: string[]): string {
  return events
    .filter((e) => e !== '[DONE]')
    .map((e) => (JSON.parse(e) as Chunk).choices[0]?.delta?.content ?? '')
    .join('');
}

describe('buffer mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  test('a safe answer streams through byte-identical, usage and [DONE] in place', async () => {
    await h.script({ reply: 'A perfectly safe answer, with punctuation: yes!' });
    const res = await streamChat(h, { stream_options: { include_usage: true } });
    const text = await res.text();
    expect(text).toBe(h.engine.streams[h.engine.streams.length - 1]);
  });

  test('an unsafe answer never reaches the client; usage and [DONE] keep their places', async () => {
    await h.script({ reply: 'first words then zzs10 hateful words' });
    const res = await streamChat(h, { stream_options: { include_usage: true } });
    expect(res.headers.get('x-safety-verdict')).toBe('block');
    const events = await readSse(res);
    expect(events.join('\n')).not.toContain('first words');
    expect(events.join('\n')).not.toContain('hateful');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    const filterAt = chunks.findIndex((c) => c.choices[0]?.finish_reason === 'content_filter');
    expect(filterAt).toBeGreaterThanOrEqual(0);
    expect(chunks[chunks.length - 1].usage).toBeTruthy(); // usage after the final choice chunk
    expect(events[events.length - 1]).toBe('[DONE]');
    const record = h.recorder.records[h.recorder.records.length - 1];
    expect(record.outputs[0].decision).toMatchObject({ action: 'block', decidingRule: 'unsafe-answer' });
    expect(record.outputs[0].verdicts[0].verdict.categories).toEqual(['S10']);
  });

  test('tool-call arguments in answers are checked too', async () => {
    await h.script({ tool_calls: [{ name: 'post', arguments: '{"text":"zzs1 threat"}' }], times: 2 });
    const streamed = await readSse(await streamChat(h));
    expect(streamed.join('\n')).not.toContain('threat');
    expect(streamed.some((e) => e.includes('"content_filter"'))).toBe(true);
    const whole = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'go' }] }) });
    const body = (await whole.json()) as { choices: { message: { tool_calls?: unknown }; finish_reason: string }[] };
    expect(body.choices[0].finish_reason).toBe('content_filter');
    expect(body.choices[0].message.tool_calls).toBeUndefined();
  });
});

describe('window mode', () => {
  let h: Harness;
  beforeAll(async () => {
    const policy = fixturePolicyVariant((y) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: window\n  window_tokens: 4\n  overlap_tokens: 1'));
    h = await startHarness({ policy });
  });
  afterAll(async () => h.close());

  test('only text that passed a check is released; the failing window never is; upstream aborted', async () => {
    // 12 one-word chunks; the marker is token 10, so windows [1-4] and [4-8] pass, [8-12] fails.
    await h.script({ reply: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 zzs1 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20', token_delay_ms: 5 });
    const abortedBefore = h.engine.stats.aborted;
    const events = await readSse(await streamChat(h));
    // The refusal after released text is a paragraph of its own, not glued to a cut-off sentence.
    expect(contentOf(events)).toBe("w1 w2 w3 w4 w5 w6 w7 w8\n\nI'm sorry, but I can't help with that.");
    expect(events.join('\n')).not.toContain('w9');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('content_filter');
    expect(events[events.length - 1]).toBe('[DONE]');
    for (let i = 0; i < 40 && h.engine.stats.aborted === abortedBefore; i++) await new Promise((r) => setTimeout(r, 25));
    expect(h.engine.stats.aborted).toBe(abortedBefore + 1);
    const record = h.recorder.records[h.recorder.records.length - 1];
    expect(record.outputs.map((o) => o.decision.action)).toEqual(['allow', 'allow', 'block']);
  });

  test('blocked before the engine sent its usage, a client that asked for it still gets a usage chunk, counted by the gateway', async () => {
    await h.script({ reply: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 zzs1 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20', token_delay_ms: 5 });
    const events = await readSse(await streamChat(h, { stream_options: { include_usage: true } }));
    expect(events.at(-1)).toBe('[DONE]');
    const last = JSON.parse(events.at(-2)!) as Chunk & { usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
    expect(last.choices).toEqual([]);
    // "go" with the chat template's tokens; at least the ten words the engine generated before the block.
    expect(last.usage!.prompt_tokens).toBeGreaterThan(1);
    expect(last.usage!.completion_tokens).toBeGreaterThanOrEqual(10);
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    // Without include_usage, none.
    await h.script({ reply: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 zzs1 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20', token_delay_ms: 5 });
    const plain = await readSse(await streamChat(h));
    expect(plain.some((e) => e !== '[DONE]' && (JSON.parse(e) as { usage?: unknown }).usage)).toBe(false);
  });

  test('a safe answer streams through complete, byte-identical', async () => {
    await h.script({ reply: 'one two three four five six seven eight nine ten eleven' });
    const res = await streamChat(h);
    expect(await res.text()).toBe(h.engine.streams[h.engine.streams.length - 1]);
  });
});

describe('streaming off', () => {
  test('events pass straight through without an output check', async () => {
    const policy = fixturePolicyVariant((y) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: off'));
    const h = await startHarness({ policy });
    try {
      await h.script({ reply: 'unchecked zzs1 text' });
      const res = await streamChat(h);
      expect(await res.text()).toBe(h.engine.streams[h.engine.streams.length - 1]);
      expect(h.recorder.records[h.recorder.records.length - 1].outputs).toEqual([]);
      // The policy has output rules: the record says the answer went out unchecked, and why.
      expect(h.recorder.records.at(-1)).toMatchObject({ outputUnchecked: 'streaming_off' });
      // Not streamed, the same policy checks the answer: no such mark.
      await h.script({ reply: 'a checked answer' });
      await (await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hi' }] }) })).text();
      expect(h.recorder.records.at(-1)).not.toHaveProperty('outputUnchecked');
    } finally {
      await h.close();
    }
  });
});

import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import type { Guard } from '../../../guards/types';
import { fixturePolicyVariant } from '../../support/policyFiles';
import { readSse, startHarness, type Harness } from '../../support/gatewayHarness';

type Json = Record<string, any>;
const chat = (h: Harness, extra: Json = {}) =>
  fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }], ...extra }) });

/** Reads SSE events until `stop` says enough, then hands back the rest of the stream as text. */
async function readUntil(res: Response, stop: (text: string) => boolean): Promise<{ head: string; rest: () => Promise<string> }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let head = '';
  while (!stop(head)) {
    const { value, done } = await reader.read();
    if (done) break;
    head += decoder.decode(value, { stream: true });
  }
  return {
    head,
    rest: async () => {
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text + decoder.decode();
        text += decoder.decode(value, { stream: true });
      }
    },
  };
}

const dataOf = (text: string) =>
  text
    .split(/\n\n/)
    .map((b) => b.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'))
    .filter(Boolean);

/** Engine killed mid-stream after bytes reached the client: a clean end with an error event, recorded. */
describe.each([
  ['off', (y: string) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: off')],
  ['window', (y: string) => y.replace('streaming:\n  mode: buffer', 'streaming:\n  mode: window\n  window_tokens: 8\n  overlap_tokens: 2')],
])('engine killed mid-stream (%s mode)', (_mode, edit) => {
  let h: Harness;
  let restarted: DevEngine | undefined;
  let sent = 0;
  beforeAll(async () => {
    h = await startHarness({ policy: fixturePolicyVariant(edit) });
  });
  afterAll(async () => {
    await h.close();
    await restarted?.close();
  });

  test('the client gets the text so far, an OpenAI error event and [DONE]; the recorder records the failure', async () => {
    await h.script({ reply: Array.from({ length: 60 }, (_, i) => `word${i}`).join(' '), token_delay_ms: 20 });
    const res = await chat(h, { stream: true });
    sent++;
    expect(res.status).toBe(200);
    const stream = await readUntil(res, (t) => t.includes('word'));
    const port = h.engine.port;
    await h.engine.close(); // the engine process dies: every socket is destroyed
    const events = dataOf(stream.head + (await stream.rest()));
    expect(events[events.length - 1]).toBe('[DONE]');
    const error = JSON.parse(events[events.length - 2]) as Json;
    expect(error.error).toMatchObject({ type: 'api_error', code: expect.stringMatching(/^engine_/) });
    expect(events.slice(0, -2).every((e) => !('error' in (JSON.parse(e) as Json)))).toBe(true);
    const record = h.recorder.records[h.recorder.records.length - 1];
    expect(record.status).toBeGreaterThanOrEqual(500);
    expect(record.error?.type).toMatch(/^engine_/);
    restarted = await startDevEngine({ port });
  });

  test('afterwards the gateway serves normally, and the recorder holds one decision per request', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await chat(h, { stream: i % 2 === 0 });
      sent++;
      expect(res.status).toBe(200);
      if (i % 2 === 0) expect((await readSse(res)).pop()).toBe('[DONE]');
      else await res.json();
    }
    expect(h.recorder.records).toHaveLength(sent);
  });
});

describe('engine hangs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { engine: { first_byte_timeout_ms: 300, idle_timeout_ms: 300, total_timeout_ms: 5000 } } });
  });
  afterAll(async () => h.close());

  test('before answering: 504 engine_timeout, recorded', async () => {
    await h.script({ hang: true });
    const res = await chat(h);
    expect(res.status).toBe(504);
    expect(((await res.json()) as Json).error.code).toBe('engine_timeout');
    expect(h.recorder.records.map((r) => r.status)).toEqual([504]);
  });

  test('between stream chunks (buffer mode): 504 with the idle timeout named, nothing of the answer', async () => {
    await h.script({ reply: 'never finished answer', token_delay_ms: 2000 });
    const res = await chat(h, { stream: true });
    expect(res.status).toBe(504);
    const body = await res.text();
    expect(JSON.parse(body).error.message).toMatch(/idle timeout/);
    expect(body).not.toContain('never');
  });

  test('then serves normally, one record per request', async () => {
    expect((await chat(h)).status).toBe(200);
    expect(h.recorder.records.map((r) => r.status)).toEqual([504, 504, 200]);
  });
});

describe('guard session throws or times out: the rule’s on_error decides', () => {
  let h: Harness;
  const guard = (name: string) => h.gateway.policies.current().guards.get(name) as Guard;
  beforeAll(async () => {
    const policy = fixturePolicyVariant((y) =>
      y
        .replace(/(model: \S*prompt-guard-v1-tiny)\n/, '$1\n    timeout_ms: 300\n')
        .replace('  - id: unsafe-prompt\n    guard: llama_guard\n    threshold: 0.5', '  - id: unsafe-prompt\n    guard: llama_guard\n    threshold: 0.5\n    on_error: allow'),
    );
    h = await startHarness({ policy });
  });
  afterAll(async () => h.close());
  afterEach(() => jest.restoreAllMocks());

  test('Prompt Guard throws; its rule fails closed (default on_error: block): 503 guard_unavailable, recorded as a guard fault', async () => {
    jest.spyOn(guard('prompt_guard'), 'check').mockRejectedValue(new Error('onnxruntime session failed'));
    const res = await chat(h);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    const body = (await res.json()) as Json;
    expect(body.error.code).toBe('guard_unavailable');
    expect(JSON.stringify(body)).not.toContain('onnxruntime');
    const outcome = h.recorder.records[0].input!.decision.outcomes.find((o) => o.ruleId === 'jailbreak');
    expect(outcome).toMatchObject({ errorType: 'model_error', effective: 'block' });
    expect(h.recorder.records[0].guardFault).toMatchObject({ guards: ['prompt_guard'], errorTypes: ['model_error'] });
  });

  test('Prompt Guard never answers: its deadline makes a timeout verdict: 503, not a content block', async () => {
    jest.spyOn(guard('prompt_guard'), 'check').mockImplementation(() => new Promise(() => undefined));
    const res = await chat(h);
    expect(res.status).toBe(503);
    const outcome = h.recorder.records[1].input!.decision.outcomes.find((o) => o.ruleId === 'jailbreak');
    expect(outcome).toMatchObject({ errorType: 'timeout', effective: 'block' });
  });

  test('Llama Guard throws on input under a rule with on_error: allow: answered, the error recorded', async () => {
    const real = guard('llama_guard');
    const check = real.check.bind(real);
    jest.spyOn(real, 'check').mockImplementation((req) => (req.direction === 'input' ? Promise.reject(new Error('session crashed')) : check(req)));
    const res = await chat(h);
    expect(res.status).toBe(200);
    const outcome = h.recorder.records[2].input!.decision.outcomes.find((o) => o.ruleId === 'unsafe-prompt');
    expect(outcome).toMatchObject({ errorType: 'model_error', effective: 'allow' });
  });

  test('then serves normally, one record per request', async () => {
    expect((await chat(h)).status).toBe(200);
    expect(h.recorder.records.map((r) => r.status)).toEqual([503, 503, 200, 200]);
  });
});

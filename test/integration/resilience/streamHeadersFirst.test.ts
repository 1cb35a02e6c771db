import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { readSse, startHarness } from '../../support/gatewayHarness';
import { heldThenBack } from '../../support/heldReplica';

/**
 * vLLM answers a streamed request with its headers before it schedules it (a Starlette
 * StreamingResponse); the first event comes after the queue and the prefill. The dev engine's
 * `headers_first` script does the same.
 */
const script = (engine: DevEngine, entry: Record<string, unknown>) => fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry) });
const reset = (engine: DevEngine) => fetch(`${engine.url}/dev/reset`, { method: 'POST' });
const chat = (baseUrl: string, extra: Record<string, unknown> = {}) =>
  fetch(`${baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }], ...extra }) });

/** The answer's text as the client reads it from the stream's deltas. */
async function streamedText(res: Response): Promise<string> {
  const events = await readSse(res);
  return events
    .filter((e) => e !== '[DONE]')
    .map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
    .join('');
}

describe('a stream whose headers come before its first event (one engine)', () => {
  test('the wait for the first event is the first-byte timeout, not the idle one: a long prefill is answered', async () => {
    // Idle 400 ms between chunks, 5 s for the first one: a 1.2 s prefill fits.
    const h = await startHarness({ config: { engine: { first_byte_timeout_ms: 5000, idle_timeout_ms: 400, total_timeout_ms: 20_000 } } });
    try {
      await h.script({ headers_first: true, delay_ms: 1200, reply: 'after a long prefill' });
      const res = await chat(h.baseUrl, { stream: true });
      expect(res.status).toBe(200);
      expect(await streamedText(res)).toBe('after a long prefill');
      expect(h.recorder.records.at(-1)).toMatchObject({ status: 200 });
    } finally {
      await h.close();
    }
  });

  test('an engine silent after its headers fails at the first-byte timeout, and the record says so', async () => {
    const h = await startHarness({ config: { engine: { first_byte_timeout_ms: 400, idle_timeout_ms: 10_000, total_timeout_ms: 20_000 } } });
    try {
      await h.script({ headers_first: true, hang: true });
      const res = await chat(h.baseUrl, { stream: true });
      const text = await res.text();
      // In the default window mode nothing had reached the client: a plain 504.
      expect(res.status).toBe(504);
      expect(JSON.parse(text).error.code).toBe('engine_timeout');
      expect(h.recorder.records.at(-1)?.error?.message).toContain('(timeout: first_byte)');
    } finally {
      await h.close();
    }
  });

  test('once the first event came, a silence past the idle timeout still fails the stream', async () => {
    const h = await startHarness({ config: { engine: { first_byte_timeout_ms: 5000, idle_timeout_ms: 300, total_timeout_ms: 20_000 } } });
    try {
      await h.script({ reply: 'one two three four', token_delay_ms: 800 });
      const res = await chat(h.baseUrl, { stream: true });
      const text = await res.text();
      expect(text).not.toContain('four');
      expect(h.recorder.records.at(-1)?.error?.message).toContain('(timeout: idle)');
    } finally {
      await h.close();
    }
  });
});

describe('a replica silent after its stream headers (several engines)', () => {
  test('is failed over like one that sent no headers, and held out of the rotation for a while though its health route answers', async () => {
    const other = await startDevEngine();
    const h = await startHarness({ config: { engine: { upstreams: [{ url: other.baseUrl }], first_byte_timeout_ms: 400, idle_timeout_ms: 10_000, health_interval_ms: 100 } } });
    try {
      // Round-robin: the replica that did not take this request takes the next one first; that one hangs after its headers.
      const first = await chat(h.baseUrl);
      expect(first.status).toBe(200);
      await first.arrayBuffer();
      const [healthy, hung] = h.engine.stats.requests === 1 ? [h.engine, other] : [other, h.engine];
      await script(hung, { headers_first: true, hang: true });
      const res = await chat(h.baseUrl, { stream: true });
      expect(res.status).toBe(200);
      expect((await streamedText(res)).length).toBeGreaterThan(0);
      expect(h.recorder.records.at(-1)).toMatchObject({ status: 200 });
      await reset(hung);
      // Its health route answers throughout (checks every 100 ms); held for 6 checks, it gets none of these, then is back in the rotation.
      expect(await heldThenBack(() => chat(h.baseUrl), hung, healthy)).toEqual({ statuses: [200, 200, 200, 200], taken: [0, 4] });
    } finally {
      await h.close();
      await other.close();
    }
  });
});

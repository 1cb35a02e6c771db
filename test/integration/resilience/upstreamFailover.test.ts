import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway } from '../../../gateway/server';
import { FIXTURE_POLICY, MemoryRecorder, readSse, startHarness, type Harness } from '../../support/gatewayHarness';
import { startRecordingUpstream } from '../../support/recordingUpstream';
import { eventually } from '../../support/keys';
import { heldThenBack } from '../../support/heldReplica';
import { closedPort } from '../../support/closedPort';

const script = (engine: DevEngine, entry: Record<string, unknown>) => fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry) });
const reset = (engine: DevEngine) => fetch(`${engine.url}/dev/reset`, { method: 'POST' });
const chat = (h: Harness, extra: Record<string, unknown> = {}) =>
  fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }], ...extra }) });

/** The harness's dev engine is upstream 1; `second` is upstream 2. */
describe('several upstreams: health checks and failover before the first byte', () => {
  let h: Harness;
  let second: DevEngine;
  const total = () => h.engine.stats.requests + second.stats.requests;
  /** Sends requests until upstream 1 has taken `n` more; returns every status seen. */
  const untilFirstTook = async (n: number) => {
    const target = h.engine.stats.requests + n;
    const statuses: number[] = [];
    while (h.engine.stats.requests < target && statuses.length < 20) {
      const res = await chat(h);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    // Otherwise the scripted fault never ran, and the "retried" tests would pass on upstream 2 alone.
    expect(h.engine.stats.requests).toBeGreaterThanOrEqual(target);
    return statuses;
  };

  beforeAll(async () => {
    second = await startDevEngine();
    h = await startHarness({ config: { engine: { upstreams: [{ url: second.baseUrl }], first_byte_timeout_ms: 400, idle_timeout_ms: 400, health_interval_ms: 100, retries: 1 } } });
  });
  afterEach(async () => {
    await reset(h.engine);
    await reset(second);
    await eventually(async () => (await fetch(`${h.gateway.url}/readyz`)).status === 200, 'ready again');
  });
  afterAll(async () => {
    await h.close();
    await second.close();
  });

  test('requests are spread over both upstreams', async () => {
    const [a, b] = [h.engine.stats.requests, second.stats.requests];
    for (let i = 0; i < 4; i++) expect((await chat(h)).status).toBe(200);
    expect(h.engine.stats.requests - a).toBe(2);
    expect(second.stats.requests - b).toBe(2);
  });

  test('an upstream answering 500 is retried on the other: the client never sees it, one record per request', async () => {
    await script(h.engine, { status: 500 });
    const before = h.recorder.records.length;
    const statuses = await untilFirstTook(1);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(h.recorder.records.length - before).toBe(statuses.length);
  });

  test('an upstream answering 429 (overloaded, nothing generated) is retried on the other, and not marked down', async () => {
    await script(h.engine, { status: 429 });
    const statuses = await untilFirstTook(1);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Busy is not broken: it keeps its turn in the rotation.
    const before = h.engine.stats.requests;
    for (let i = 0; i < 4; i++) expect((await chat(h)).status).toBe(200);
    expect(h.engine.stats.requests - before).toBe(2);
  });

  test("the engine refusing the gateway's credentials (401) is a 502 engine_error, never a 401 the app would blame on its own key", async () => {
    await script(h.engine, { status: 401, times: 5 });
    await script(second, { status: 401, times: 5 });
    const res = await chat(h);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_error');
  });

  test("one replica refusing the gateway's key (a wrong engine.upstreams[].api_key) is failed over and marked down: the client never sees it", async () => {
    await script(h.engine, { status: 401, times: 5 });
    const statuses = await untilFirstTook(1);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  test('a stream whose upstream hangs times out before its first byte, and the other answers', async () => {
    await script(h.engine, { hang: true });
    const target = h.engine.stats.requests + 1;
    const statuses: number[] = [];
    while (h.engine.stats.requests < target && statuses.length < 20) {
      const res = await chat(h, { stream: true });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(h.engine.stats.requests).toBeGreaterThanOrEqual(target);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  test('a non-streamed request is not sent again after its first-byte timeout (the engine may be generating it): 504, one upstream asked', async () => {
    // A whole answer's headers come once it is generated: a replica still generating must not be doubled.
    await script(h.engine, { hang: true });
    await script(second, { hang: true });
    const before = total();
    const res = await chat(h);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_timeout');
    expect(total() - before).toBe(1);
  });

  test('an upstream killed is failed over, marked down, and back in rotation once it returns', async () => {
    const port = second.port;
    await second.close();
    for (let i = 0; i < 4; i++) expect((await chat(h)).status).toBe(200);
    second = await startDevEngine({ port });
    await eventually(async () => {
      const before = second.stats.requests;
      await chat(h);
      await chat(h);
      return second.stats.requests > before;
    }, 'the restarted upstream serves again');
  });

  test('both upstreams failing is the usual 502, after one attempt on each', async () => {
    await script(h.engine, { status: 500 });
    await script(second, { status: 500 });
    const before = total();
    const res = await chat(h);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_error');
    expect(total() - before).toBe(2);
  });

  test('both upstreams unavailable (503) is a 503 engine_unavailable, after one attempt on each', async () => {
    await script(h.engine, { status: 503 });
    await script(second, { status: 503 });
    const before = total();
    const res = await chat(h);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('engine_unavailable');
    expect(total() - before).toBe(2);
  });

  test('a stream is never retried once the engine answered: dying mid-stream is an error, on one upstream only', async () => {
    await script(h.engine, { reply: 'alpha beta gamma delta epsilon', drop_after_chunks: 2 });
    await script(second, { reply: 'alpha beta gamma delta epsilon', drop_after_chunks: 2 });
    const before = h.recorder.records.length;
    const engineBefore = total();
    const res = await chat(h, { stream: true });
    // Buffer mode (fixture policy): nothing was released, so the failure is a clean 502.
    expect(res.status).toBe(502);
    expect(await res.text()).not.toContain('alpha');
    expect(total() - engineBefore).toBe(1);
    expect(h.recorder.records.slice(before).map((r) => r.status)).toEqual([502]);
    await reset(h.engine);
    await reset(second);
    expect((await readSse(await chat(h, { stream: true }))).pop()).toBe('[DONE]');
  });
});

describe('replicas listed only under engine.upstreams', () => {
  test('are the whole pool (no dev engine beside them), and each gets the engine key when it has none of its own', async () => {
    const a = await startRecordingUpstream();
    const b = await startRecordingUpstream();
    const log: string[] = [];
    const gateway = await startGateway({
      config: GatewayConfig.parse({ port: 0, policy: FIXTURE_POLICY, engine: { api_key: 'engine-key', upstreams: [{ url: a.baseUrl }, { url: b.baseUrl, api_key: 'own-key' }] } }),
      recorder: new MemoryRecorder(),
      log: (line) => log.push(line),
    });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }) });
        expect(res.status).toBe(200);
      }
      expect(gateway.devEngine).toBeUndefined();
      expect(log.join('\n')).not.toMatch(/DEV ENGINE|DEV STAND-IN/);
      expect(a.completionsServed().length + b.completionsServed().length).toBe(4);
      expect(a.completionsServed().map((r) => r.headers.authorization)).toEqual(a.completionsServed().map(() => 'Bearer engine-key'));
      expect(b.completionsServed().map((r) => r.headers.authorization)).toEqual(b.completionsServed().map(() => 'Bearer own-key'));
      expect(a.completionsServed().length).toBeGreaterThan(0);
      expect(b.completionsServed().length).toBeGreaterThan(0);
    } finally {
      await gateway.shutdown(1000);
      await a.close();
      await b.close();
    }
  });
});

describe('a replica that times out', () => {
  test('sits out its health checks for a while (it may be hung behind a health route that still answers): the next requests go to the other', async () => {
    const other = await startDevEngine();
    const h = await startHarness({ config: { engine: { upstreams: [{ url: other.baseUrl }], first_byte_timeout_ms: 400, health_interval_ms: 100 } } });
    try {
      // Round-robin: the replica that did not take this request takes the next one first; that one hangs.
      const first = await chat(h);
      expect(first.status).toBe(200);
      await first.arrayBuffer();
      const [healthy, hung] = h.engine.stats.requests === 1 ? [h.engine, other] : [other, h.engine];
      await script(hung, { hang: true });
      // Streamed: its headers come as generation starts, so none by the first-byte timeout says the replica is hung; the other answers.
      const res = await chat(h, { stream: true });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      await reset(hung);
      // Its health route answers throughout (checks every 100 ms); held for 6 checks, it gets none of these, then is back in the rotation.
      expect(await heldThenBack(() => chat(h), hung, healthy)).toEqual({ statuses: [200, 200, 200, 200], taken: [0, 4] });
    } finally {
      await h.close();
      await other.close();
    }
  });
});

describe("an overloaded replica's Retry-After", () => {
  test('reaches the client when the other replica is unreachable: the overloaded one says when to come back, the refused one says nothing', async () => {
    const h = await startHarness({ config: { engine: { upstreams: [{ url: `http://127.0.0.1:${await closedPort()}/v1` }], health_interval_ms: 60_000, retries: 1 } } });
    try {
      for (let i = 0; i < 4; i++) {
        await script(h.engine, { status: 429, retry_after: 30 });
        const res = await chat(h);
        await res.arrayBuffer();
        expect([res.status, res.headers.get('retry-after')]).toEqual([503, '30']);
      }
    } finally {
      await h.close();
    }
  });
});

describe('one total timeout across failover attempts', () => {
  test('a stream failed over after a first-byte timeout gets what is left of the total, not a fresh one', async () => {
    const other = await startDevEngine({ tokenDelayMs: 100 });
    // undici checks the first-byte timeout on a coarse clock: it fires 1.5-2.5 s in.
    const h = await startHarness({ tokenDelayMs: 100, config: { engine: { upstreams: [{ url: other.baseUrl }], first_byte_timeout_ms: 1500, idle_timeout_ms: 1500, total_timeout_ms: 4000, health_interval_ms: 60_000, retries: 1 } } });
    try {
      // Round-robin: the upstream that did not take this one takes the next request first.
      await script(h.engine, { reply: 'ok' });
      await script(other, { reply: 'ok' });
      expect((await chat(h)).status).toBe(200);
      const [first, second] = h.engine.stats.requests === 1 ? [other, h.engine] : [h.engine, other];
      await reset(h.engine);
      await reset(other);
      await script(first, { hang: true });
      // Alone, this answer takes about 3 s, within the 4 s total; after the first upstream's 1.5 s or more it cannot finish.
      const words = Array.from({ length: 30 }, (_, i) => `w${i}`);
      await script(second, { reply: words.join(' ') });
      const [firstBefore, secondBefore] = [first.stats.requests, second.stats.requests];
      const res = await chat(h, { stream: true });
      const text = res.status === 200 ? (await readSse(res)).join('') : await res.text();
      expect(first.stats.requests - firstBefore).toBe(1);
      expect(second.stats.requests - secondBefore).toBe(1);
      expect(text).not.toContain('w29');
    } finally {
      await h.close();
      await other.close();
    }
  });
});

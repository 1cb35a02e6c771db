/**
 * Several Llama Guard servers behind one guard (guards/llamaGuard/remote.ts with
 * runtime/endpointPool.ts), against real loopback vLLM-like servers: round-robin over the healthy
 * ones, failover within a check where another server can help (unreachable, 5xx, 429), none
 * where it cannot (4xx), recovery by health check (GET /v1/models), the verdict cache within a
 * cache scope, and a timeout budget that grows with the conversation.
 */
import { createLlamaGuardRemote, type LlamaGuardRemotePoolOptions } from '../../../guards/llamaGuard/remote';
import type { GuardRequest } from '../../../guards/types';
import { startFakeGuardServer, type FakeGuardServer } from '../../support/fakeGuardServers';

const input = (content = 'How do I bake bread?'): GuardRequest => ({ direction: 'input', texts: [], conversation: [{ role: 'user', content }] });

function guardOver(servers: FakeGuardServer[], extra: Partial<LlamaGuardRemotePoolOptions> = {}) {
  return createLlamaGuardRemote({ backend: 'openai', name: 'llama_guard', variant: '8b', baseUrl: servers.map((s) => s.baseUrl), model: servers[0]!.model, timeoutMs: 5000, ...extra });
}

const posts = (s: FakeGuardServer) => s.requests.filter((r) => r.method === 'POST').length;

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('remote Llama Guard over several servers', () => {
  let a: FakeGuardServer;
  let b: FakeGuardServer;
  beforeEach(async () => {
    a = await startFakeGuardServer('vllm');
    b = await startFakeGuardServer('vllm');
    for (const s of [a, b]) s.behave({ kind: 'answer', text: 'safe', pUnsafe: 0.02 });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  test('checks go round-robin over healthy servers', async () => {
    const guard = guardOver([a, b]);
    await guard.load();
    try {
      for (let i = 0; i < 6; i++) expect((await guard.check(input(`question ${i}`))).label).toBe('safe');
      expect(posts(a)).toBe(3);
      expect(posts(b)).toBe(3);
    } finally {
      await guard.close();
    }
  });

  test('a 503, a dropped connection or an unreachable server: the next server answers the same check', async () => {
    const log: string[] = [];
    const guard = guardOver([a, b], { log: (l) => log.push(l) });
    await guard.load();
    try {
      a.behave({ kind: 'error', status: 503, message: 'Service Unavailable' });
      b.behave({ kind: 'answer', text: 'unsafe\nS2', pUnsafe: 0.93 });
      const v = await guard.check(input('one'));
      expect(v).toMatchObject({ label: 'unsafe', categories: ['S2'] });
      expect(log.some((l) => /DOWN: \/chat\/completions HTTP 503/.test(l))).toBe(true);

      a.behave({ kind: 'drop' });
      a.setHealthy(true);
      expect((await guard.check(input('two'))).error).toBeUndefined();

      await a.close();
      for (let i = 0; i < 3; i++) expect((await guard.check(input(`three ${i}`))).error).toBeUndefined();
    } finally {
      await guard.close();
    }
  });

  test('a server that accepts the call and never answers (its health route still up): the other answers within the budget, it goes down', async () => {
    const log: string[] = [];
    const guard = guardOver([a, b], { timeoutMs: 1000, timeoutPer1kTokensMs: 0, log: (l) => log.push(l) });
    await guard.load();
    try {
      a.behave({ kind: 'hang' });
      for (let i = 0; i < 3; i++) expect((await guard.check(input(`hung ${i}`))).error).toBeUndefined();
      expect(log.some((l) => /DOWN: .*gave no answer within \d+ ms; a replica asked after it answered/.test(l))).toBe(true);
      expect(posts(a)).toBe(1);
    } finally {
      await guard.close();
    }
  });

  test('a 400 is the request\'s own fault: no other server is tried', async () => {
    const guard = guardOver([a, b]);
    await guard.load();
    try {
      a.behave({ kind: 'error', status: 400, message: "This model's maximum context length is 8192 tokens." });
      b.behave({ kind: 'error', status: 400, message: "This model's maximum context length is 8192 tokens." });
      const v = await guard.check(input('too long'));
      expect(v.error).toMatchObject({ type: 'model_error' });
      expect(posts(a) + posts(b)).toBe(1);
    } finally {
      await guard.close();
    }
  });

  test.each([
    ['a 500 (a vLLM whose engine died, its /v1/models still answering)', { kind: 'error', status: 500, message: 'EngineCore encountered an issue.' }],
    ['a 200 HTML page (a misrouted ingress)', { kind: 'raw', status: 200, body: '<html><body>Welcome to nginx!</body></html>', contentType: 'text/html' }],
    ['a 200 holding an error object', { kind: 'raw', status: 200, body: JSON.stringify({ object: 'error', message: 'internal error', type: 'InternalServerError', code: 500 }), contentType: 'application/json' }],
  ] as const)('%s from one server: the other answers every check, and the broken one is marked down', async (_name, broken) => {
    const log: string[] = [];
    const guard = guardOver([a, b], { log: (l) => log.push(l) });
    await guard.load();
    try {
      a.behave(broken as Parameters<FakeGuardServer['behave']>[0]);
      b.behave({ kind: 'answer', text: 'unsafe\nS2', pUnsafe: 0.97 });
      const verdicts = [];
      for (let i = 0; i < 4; i++) verdicts.push(await guard.check(input(`question ${i}`)));
      expect(verdicts.map((v) => v.error?.type ?? v.label)).toEqual(['unsafe', 'unsafe', 'unsafe', 'unsafe']);
      expect(log.some((l) => l.includes('DOWN'))).toBe(true);
    } finally {
      await guard.close();
    }
  });

  test('a 500 or an unreadable answer from every server (an input that breaks them all) marks none down: one request cannot take the pool out', async () => {
    const log: string[] = [];
    const guard = guardOver([a, b], { log: (l) => log.push(l) });
    await guard.load();
    try {
      a.behave({ kind: 'error', status: 500, message: 'tokenizer panicked' });
      b.behave({ kind: 'raw', status: 200, body: 'not json', contentType: 'text/plain' });
      const v = await guard.check(input('the text that breaks them'));
      expect(v.error).toBeDefined();
      expect(log.filter((l) => l.includes('DOWN'))).toEqual([]);
      // A 503 is the server's own state: marked down as before.
      a.behave({ kind: 'error', status: 503, message: 'Service Unavailable' });
      b.behave({ kind: 'error', status: 503, message: 'Service Unavailable' });
      await guard.check(input('another'));
      expect(log.filter((l) => l.includes('DOWN')).length).toBe(2);
    } finally {
      await guard.close();
    }
  });

  test('a server marked down is asked last, and comes back when its health check passes', async () => {
    const log: string[] = [];
    const guard = guardOver([a, b], { healthIntervalMs: 50, log: (l) => log.push(l) });
    await guard.load();
    try {
      a.behave({ kind: 'error', status: 502, message: 'Bad Gateway' });
      a.setHealthy(false);
      await guard.check(input('first'));
      const asked = posts(a);
      for (let i = 0; i < 4; i++) expect((await guard.check(input(`down ${i}`))).error).toBeUndefined();
      expect(posts(a)).toBe(asked);

      a.behave({ kind: 'answer', text: 'safe', pUnsafe: 0.01 });
      a.setHealthy(true);
      await waitFor(() => log.some((l) => /up: health check passed/.test(l)));
      for (let i = 0; i < 4; i++) await guard.check(input(`up ${i}`));
      expect(posts(a)).toBeGreaterThan(asked);
    } finally {
      await guard.close();
    }
  });

  test('every server down: an unavailable verdict naming the last failure', async () => {
    const guard = guardOver([a, b]);
    await guard.load();
    try {
      for (const s of [a, b]) s.behave({ kind: 'error', status: 503, message: 'overloaded' });
      const v = await guard.check(input());
      expect(v).toMatchObject({ label: 'error', error: { type: 'unavailable' } });
      expect(v.error!.message).toMatch(/HTTP 503/);
    } finally {
      await guard.close();
    }
  });

  test('verdicts are reused for the same prepared conversation within a cache scope, and only there', async () => {
    const guard = guardOver([a, b], { cacheSize: 16 });
    await guard.load();
    try {
      const req = { ...input('Is this safe?'), cacheScope: 'default@aaa' };
      const first = await guard.check(req);
      expect(first.cacheHits).toEqual({ texts: 0, segments: 0 });
      const again = await guard.check(req);
      expect(again.cacheHits).toEqual({ texts: 1, segments: 0 });
      expect(again.score).toBe(first.score);
      expect(posts(a) + posts(b)).toBe(1);
      const newVersion = await guard.check({ ...req, cacheScope: 'default@bbb' });
      expect(newVersion.cacheHits).toEqual({ texts: 0, segments: 0 });
      expect(posts(a) + posts(b)).toBe(2);
      // Errors are never cached: the next check asks again.
      for (const s of [a, b]) s.behave({ kind: 'answer', text: 'I cannot help' });
      expect((await guard.check({ ...req, cacheScope: 'default@ccc' })).error?.type).toBe('parse_error');
      for (const s of [a, b]) s.behave({ kind: 'answer', text: 'safe' });
      expect((await guard.check({ ...req, cacheScope: 'default@ccc' })).error).toBeUndefined();
    } finally {
      await guard.close();
    }
  });

  test('the timeout grows with the conversation, up to its cap', async () => {
    const guard = guardOver([a], { timeoutMs: 100, timeoutPer1kTokensMs: 1000, maxTimeoutMs: 400 });
    await guard.load();
    try {
      a.behave({ kind: 'hang' });
      // 2 characters: 1 token (characters / 4, rounded up), 100 + 1 ms.
      expect((await guard.check(input('hi'))).error).toMatchObject({ type: 'timeout', message: 'no answer within 101 ms' });
      // 8,000 characters: 2,000 tokens, 100 + 2,000 ms, capped at 400.
      expect((await guard.check(input('word '.repeat(1600)))).error).toMatchObject({ type: 'timeout', message: 'no answer within 400 ms' });
    } finally {
      await guard.close();
    }
  });
});

import { effectiveLimits } from '../../../gateway/access/rateLimit/keyLimits';
import { LimiterStore } from '../../../gateway/access/rateLimit/limiterStore';

const durations = { requests: 60, tokens: 60 };

describe('limiter store (memory)', () => {
  test('requests: refused past the limit, and refusals keep counting', async () => {
    const store = new LimiterStore({ keyPrefix: 't', durations });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await store.take('requests', 'a', 3, 1, false));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3].resetMs).toBeGreaterThan(0);
    expect((await store.take('requests', 'b', 3, 1, false)).allowed).toBe(true); // other subject
  });

  test('a limit changed in the keys file keeps the window count: lowering it does not hand out a fresh minute', async () => {
    const store = new LimiterStore({ keyPrefix: 't', durations });
    for (let i = 0; i < 8; i++) expect((await store.take('requests', 'k', 10, 1, false)).allowed).toBe(true);
    // The operator lowers the key to 5 a minute: 8 were already taken this window.
    expect(await store.take('requests', 'k', 5, 1, false)).toMatchObject({ allowed: false, limit: 5, remaining: 0 });
    // Raised to 12: 9 counted so far (the refusal counts for requests), so three more.
    const raised = [];
    for (let i = 0; i < 4; i++) raised.push((await store.take('requests', 'k', 12, 1, false)).allowed);
    expect(raised).toEqual([true, true, true, false]);
    // Tokens likewise, with refused reservations undone.
    expect((await store.take('tokens', 'k', 1000, 700, true)).allowed).toBe(true);
    expect(await store.take('tokens', 'k', 500, 1, true)).toMatchObject({ allowed: false, remaining: 0 });
    expect(await store.take('tokens', 'k', 800, 100, true)).toMatchObject({ allowed: true, remaining: 0 });
  });

  test('tokens: a refused reservation is undone; a refund makes room again', async () => {
    const store = new LimiterStore({ keyPrefix: 't', durations });
    expect((await store.take('tokens', 'a', 100, 70, true)).remaining).toBe(30);
    const refused = await store.take('tokens', 'a', 100, 50, true);
    expect(refused).toMatchObject({ allowed: false, remaining: 30 });
    expect((await store.take('tokens', 'a', 100, 30, true)).allowed).toBe(true);
    await store.give('tokens', 'a', 100, 60);
    expect((await store.take('tokens', 'a', 100, 60, true)).allowed).toBe(true);
    await store.charge('tokens', 'a', 100, 40);
    expect((await store.take('tokens', 'a', 100, 1, true)).allowed).toBe(false);
  });

  test('a refund never gives back more than the window counts (a count below zero would be budget nobody paid for)', async () => {
    const store = new LimiterStore({ keyPrefix: 't', durations });
    // Nothing counted (the points came from another store, or the window reset): nothing to give back.
    expect(await store.give('tokens', 'fresh', 100, 50)).toBe(0);
    expect((await store.take('tokens', 'fresh', 100, 120, true)).allowed).toBe(false);
    // 30 counted: a refund of 80 gives back those 30 only.
    expect((await store.take('tokens', 'b', 100, 30, true)).allowed).toBe(true);
    expect(await store.give('tokens', 'b', 100, 80)).toBe(30);
    expect((await store.take('tokens', 'b', 100, 101, true)).allowed).toBe(false);
    expect((await store.take('tokens', 'b', 100, 100, true)).allowed).toBe(true);
  });

  test('refunds of one key at the same moment give back no more than the window counted', async () => {
    const store = new LimiterStore({ keyPrefix: 't', durations });
    // 30 counted (say, taken from the insurance store while Redis was down); two refunds of 30 at once.
    expect((await store.take('tokens', 'c', 100, 30, true)).allowed).toBe(true);
    expect(await Promise.all([store.give('tokens', 'c', 100, 30), store.give('tokens', 'c', 100, 30)])).toEqual([30, 0]);
    // The count is 0, not -30: 101 is still more than the window holds.
    expect((await store.take('tokens', 'c', 100, 101, true)).allowed).toBe(false);
    expect((await store.take('tokens', 'c', 100, 100, true)).allowed).toBe(true);
    // Many at once (a busy key): merged behind the running one, never more than the count.
    expect((await store.take('tokens', 'd', 100, 90, true)).allowed).toBe(true);
    // Each call is told its own share of what the merged refund gave back, in the order they came.
    expect(await Promise.all(Array.from({ length: 5 }, () => store.give('tokens', 'd', 100, 30)))).toEqual([30, 30, 30, 0, 0]);
    expect((await store.take('tokens', 'd', 100, 101, true)).allowed).toBe(false);
    expect((await store.take('tokens', 'd', 100, 100, true)).allowed).toBe(true);
  });

  test("a key's own limits override the defaults one by one", () => {
    expect(effectiveLimits({ requests_per_minute: 5 }, { requests_per_minute: 60, tokens_per_minute: 1000 })).toEqual({ requests_per_minute: 5, tokens_per_minute: 1000, concurrent_requests: undefined });
    expect(effectiveLimits(undefined, {})).toEqual({ requests_per_minute: undefined, tokens_per_minute: undefined, concurrent_requests: undefined });
  });
});

import Redis from 'ioredis';
import { LimiterStore } from '../../../gateway/access/rateLimit/limiterStore';
import { createRedisClient } from '../../../gateway/access/rateLimit/redisClient';
import { redisServerPath, startRedis, type RedisServer } from '../../support/redisServer';

const durations = { requests: 60, tokens: 60 };

/**
 * Refunds in Redis by two replicas at once. Each replica's store has its own connection; the
 * refund used to read the count, then reward it, so two replicas refunding one key at the same
 * instant both read the same count and together gave back up to twice what was taken.
 */
(redisServerPath() ? describe : describe.skip)('limiter store refunds in Redis', () => {
  let server: RedisServer;
  let inspect: Redis;
  const clients: Redis[] = [];
  const errors: Error[] = [];

  /** A replica's store: a connection of its own, made as the gateway makes it. */
  const replica = async (prefix: string): Promise<LimiterStore> => {
    const client = createRedisClient(server.url, () => undefined);
    clients.push(client);
    if (client.status !== 'ready') await new Promise((r) => client.once('ready', r));
    return new LimiterStore({ redis: client, keyPrefix: prefix, durations, onStoreError: (err) => errors.push(err) });
  };
  const count = async (key: string) => {
    const value = await inspect.get(key);
    return value === null ? null : Number(value);
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    server = await startRedis();
    inspect = new Redis(server.url);
  });
  afterEach(() => {
    expect(errors).toEqual([]);
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    inspect?.disconnect();
    await server?.stop();
  });

  test("a refund lowers the limiter's own key, gives back at most its count, and keeps its expiry", async () => {
    const a = await replica('one');
    expect((await a.take('tokens', 'key:k1', 100, 70, true)).allowed).toBe(true);
    // rate-limiter-flexible's key: <keyPrefix>:<kind>:<id>, an integer count.
    expect(await count('one:tokens:key:k1')).toBe(70);
    await inspect.pexpire('one:tokens:key:k1', 45_000);
    expect(await a.give('tokens', 'key:k1', 100, 30)).toBe(30);
    expect(await count('one:tokens:key:k1')).toBe(40);
    expect(await a.give('tokens', 'key:k1', 100, 50)).toBe(40);
    expect(await count('one:tokens:key:k1')).toBe(0);
    expect(await a.give('tokens', 'key:k1', 100, 10)).toBe(0);
    expect(await count('one:tokens:key:k1')).toBe(0);
    const ttl = await inspect.pttl('one:tokens:key:k1');
    expect(ttl).toBeGreaterThan(40_000);
    expect(ttl).toBeLessThanOrEqual(45_000);
    // The limiter reads the refunded count: the whole budget is there again, and no more.
    expect((await a.take('tokens', 'key:k1', 100, 101, true)).allowed).toBe(false);
    expect((await a.take('tokens', 'key:k1', 100, 100, true)).allowed).toBe(true);
    // A window that is gone (expired) gets nothing back, and is not started again by a refund.
    expect(await a.give('tokens', 'key:gone', 100, 25)).toBe(0);
    expect(await inspect.exists('one:tokens:key:gone')).toBe(0);
  });

  test('two replicas refunding one key at the same instant never give back more than was taken', async () => {
    const a = await replica('two');
    const b = await replica('two');
    for (let round = 0; round < 40; round++) {
      const id = `key:r${round}`;
      const taken = 10 + ((round * 7) % 50);
      expect((await a.take('tokens', id, 1000, taken, true)).allowed).toBe(true);
      // Each replica refunds the whole amount (as after an outage, when the points came from its
      // insurance limiter), several times over, all at once.
      const asks = Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).give('tokens', id, 1000, taken));
      const given = await Promise.all(asks);
      expect(sum(given)).toBe(taken);
      expect(given.every((g) => g >= 0 && g <= taken)).toBe(true);
      expect(await count(`two:tokens:${id}`)).toBe(0);
    }
  });

  test('refunds smaller than the count, from both replicas at once, each give back what they asked until the count runs out', async () => {
    const a = await replica('three');
    const b = await replica('three');
    for (let round = 0; round < 20; round++) {
      const id = `key:s${round}`;
      expect((await b.take('tokens', id, 1000, 100, true)).allowed).toBe(true);
      const [x, y] = await Promise.all([a.give('tokens', id, 1000, 30), b.give('tokens', id, 1000, 30)]);
      expect([x, y]).toEqual([30, 30]);
      expect(await count(`three:tokens:${id}`)).toBe(40);
      // 3 × 25 asked of the 40 left, from two replicas at once: 40 given back in all, never 75.
      const rest = await Promise.all([a.give('tokens', id, 1000, 25), b.give('tokens', id, 1000, 25), a.give('tokens', id, 1000, 25)]);
      expect(sum(rest)).toBe(40);
      expect([...rest].sort((p, q) => p - q)).toEqual([0, 15, 25]);
      expect(await count(`three:tokens:${id}`)).toBe(0);
    }
  });

  test('while Redis is not reachable, refunds go to the insurance limiter, as the takes did', async () => {
    // A connection that never opens: rate-limiter-flexible counts in the insurance limiter.
    const down = new Redis(server.url, { lazyConnect: true, enableOfflineQueue: false });
    clients.push(down);
    const store = new LimiterStore({ redis: down, keyPrefix: 'four', durations, onStoreError: (err) => errors.push(err) });
    expect((await store.take('tokens', 'key:k', 100, 60, true)).allowed).toBe(true);
    expect(await Promise.all([store.give('tokens', 'key:k', 100, 40), store.give('tokens', 'key:k', 100, 40)])).toEqual([40, 20]);
    expect((await store.take('tokens', 'key:k', 100, 101, true)).allowed).toBe(false);
    expect((await store.take('tokens', 'key:k', 100, 100, true)).allowed).toBe(true);
    expect(await inspect.exists('four:tokens:key:k')).toBe(0);
  });
});

(redisServerPath() ? describe : describe.skip)('limiter store through a Redis outage and a stall', () => {
  let server: RedisServer;
  let inspect: Redis;
  const clients: Redis[] = [];
  const connected = async (): Promise<Redis> => {
    const client = createRedisClient(server.url, () => undefined);
    clients.push(client);
    if (client.status !== 'ready') await new Promise((r) => client.once('ready', r));
    return client;
  };
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    inspect?.disconnect();
    await server?.stop();
  });

  test('a refund goes back where its take counted: points taken in memory during an outage never lower what other replicas counted in Redis after it', async () => {
    const a = await connected();
    const b = await connected();
    const storeA = new LimiterStore({ redis: a, keyPrefix: 'out', durations });
    const storeB = new LimiterStore({ redis: b, keyPrefix: 'out', durations });
    await server.kill();
    // Replica A reserves 4,000 of a 5,000 budget while Redis is down: counted in its memory.
    const taken = await storeA.take('tokens', 'key:k', 5000, 4000, true);
    expect(taken).toMatchObject({ allowed: true, store: 'memory' });
    await server.restart();
    for (const c of [a, b]) if (c.status !== 'ready') await new Promise((r) => c.once('ready', r));
    await new Promise((r) => setTimeout(r, 5100)); // the breaker's cool-down, if a command failed on a live connection
    // Replica B spends 4,000 in Redis; A's request used 10 and refunds 3,990 where it took them.
    expect(await storeB.take('tokens', 'key:k', 5000, 4000, true)).toMatchObject({ allowed: true, store: 'shared' });
    expect(await storeA.give('tokens', 'key:k', 5000, 3990, taken.store)).toBe(3990);
    inspect = new Redis(server.url);
    expect(Number(await inspect.get('out:tokens:key:k'))).toBe(4000);
    // B's count stands: another 4,000 does not fit the 5,000 budget.
    expect((await storeB.take('tokens', 'key:k', 5000, 4000, true)).allowed).toBe(false);
  }, 20_000);

  test('a stalled Redis (connected, answering nothing): after the first command times out, limits answer from memory without asking it until the cool-down ends', async () => {
    const client = await connected();
    const errors: Error[] = [];
    const store = new LimiterStore({ redis: client, keyPrefix: 'stall', durations, onStoreError: (err) => errors.push(err) });
    server.pause();
    try {
      // The first take waits out the command timeout and counts in memory; the next ones do not ask Redis at all.
      expect(await store.take('requests', 'key:k', 100, 1, false)).toMatchObject({ allowed: true, store: 'memory' });
      for (let i = 0; i < 5; i++) expect(await store.take('requests', 'key:k', 100, 1, false)).toMatchObject({ allowed: true, store: 'memory', remaining: 100 - (i + 2) });
    } finally {
      server.resume();
    }
    expect(errors).toHaveLength(1);
    // Redis ran only what was sent before the stall was noticed: the first take (its reply came too late).
    inspect ??= new Redis(server.url);
    await new Promise((r) => setTimeout(r, 200));
    expect(Number(await inspect.get('stall:requests:key:k'))).toBe(1);
  }, 20_000);
});

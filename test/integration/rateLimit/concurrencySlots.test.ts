import Redis from 'ioredis';
import { ConcurrencySlots } from '../../../gateway/access/rateLimit/concurrencySlots';
import { redisServerPath, startRedis, type RedisServer } from '../../support/redisServer';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Each slot expires on its own. A fixed window (the old counter) restarted at zero when it ended,
 * forgetting the slots still held: right after, a key with a limit of 2 got 4.
 */
function behaviour(make: (ttlMs: number) => ConcurrencySlots) {
  test('slots come back when released; a refusal holds nothing', async () => {
    const slots = make(60_000);
    const first = await slots.take('app', 1);
    expect(first.allowed).toBe(true);
    const second = await slots.take('app', 1);
    expect(second.allowed).toBe(false);
    await second.release(); // a refused take gives back nothing it did not hold
    expect((await slots.take('app', 1)).allowed).toBe(false);
    expect((await slots.take('other-app', 1)).allowed).toBe(true);
    await first.release();
    expect((await slots.take('app', 1)).allowed).toBe(true);
  });

  test('a slot taken late keeps counting after an earlier one expired', async () => {
    const slots = make(400);
    expect((await slots.take('app', 2)).allowed).toBe(true); // lost: never released, expires at 400 ms
    await sleep(250);
    expect((await slots.take('app', 2)).allowed).toBe(true); // held until 650 ms
    await sleep(250); // 500 ms: the first has expired, the second is still held
    expect((await slots.take('app', 2)).allowed).toBe(true);
    expect((await slots.take('app', 2)).allowed).toBe(false);
  });
}

describe('concurrency slots in memory', () => {
  behaviour((ttl) => new ConcurrencySlots({ keyPrefix: 'm', slotTtlMs: ttl }));
});

(redisServerPath() ? describe : describe.skip)('concurrency slots in Redis', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  let n = 0;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server?.stop();
  });
  // Two clients (two replicas) per store: slots taken through one count for the other.
  behaviour((ttl) => {
    const prefix = `r${n++}`;
    const a = new Redis(server.url);
    const b = new Redis(server.url);
    clients.push(a, b);
    const one = new ConcurrencySlots({ redis: a, keyPrefix: prefix, slotTtlMs: ttl, onStoreError: (e) => { throw e; } });
    const two = new ConcurrencySlots({ redis: b, keyPrefix: prefix, slotTtlMs: ttl, onStoreError: (e) => { throw e; } });
    let turn = 0;
    return { take: (id: string, limit: number) => (turn++ % 2 ? two : one).take(id, limit) } as ConcurrencySlots;
  });

  test('a release that fails while Redis is unreachable is tried again, so the slot does not stay taken until its ttl', async () => {
    const flaky = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    const other = new Redis(server.url);
    clients.push(flaky, other);
    await flaky.connect();
    const errors: string[] = [];
    const slots = new ConcurrencySlots({ redis: flaky, keyPrefix: 'flap', slotTtlMs: 600_000, releaseRetryMs: 50, onStoreError: (e) => errors.push(e.message) });
    const seen = new ConcurrencySlots({ redis: other, keyPrefix: 'flap', slotTtlMs: 600_000 });
    const held = await slots.take('app', 1);
    expect(held.allowed).toBe(true);
    flaky.disconnect();
    await held.release(); // fails: the connection is gone
    for (let i = 0; i < 100 && flaky.status !== 'end'; i++) await sleep(10);
    expect(errors.length).toBeGreaterThan(0);
    expect((await seen.take('app', 1)).allowed).toBe(false); // still taken in Redis
    await flaky.connect();
    let freed = false;
    for (let i = 0; i < 40 && !freed; i++) {
      await sleep(50);
      const probe = await seen.take('app', 1);
      freed = probe.allowed;
      await probe.release();
    }
    expect(freed).toBe(true);
  });

  test('Redis unreachable: slots are held in memory and the limit still holds', async () => {
    const down = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    const errors: string[] = [];
    const slots = new ConcurrencySlots({ redis: down, keyPrefix: 'd', slotTtlMs: 60_000, onStoreError: (e) => errors.push(e.message) });
    expect((await slots.take('app', 1)).allowed).toBe(true);
    expect((await slots.take('app', 1)).allowed).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    down.disconnect();
  });
});

import type Redis from 'ioredis';
import { RedisBreaker } from '../../../gateway/access/rateLimit/redisBreaker';

/** The breaker reads only the connection's status: a plain object stands in for the ioredis client. */
describe('RedisBreaker', () => {
  const live = { status: 'ready' } as unknown as Redis;

  test('closed: every caller may ask Redis; a failure on a live connection opens it for the cool-down; then one caller alone tries again', async () => {
    const breaker = new RedisBreaker(live, 50);
    expect(breaker.usable).toBe(live);
    expect(breaker.usable).toBe(live);
    expect(breaker.failed()).toBe(true);
    expect(breaker.usable).toBeUndefined();
    expect(breaker.closed).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(breaker.usable).toBe(live); // the one try
    expect(breaker.usable).toBeUndefined(); // the others stay in memory meanwhile
    breaker.succeeded();
    expect(breaker.closed).toBe(true);
    expect(breaker.usable).toBe(live);
  });

  test('a try that fails opens it for another cool-down', async () => {
    const breaker = new RedisBreaker(live, 50);
    breaker.failed();
    await new Promise((r) => setTimeout(r, 60));
    expect(breaker.usable).toBe(live);
    breaker.failed();
    expect(breaker.usable).toBeUndefined();
    await new Promise((r) => setTimeout(r, 60));
    expect(breaker.usable).toBe(live);
  });

  test('a connection that is down (commands fail at once) does not open it, and is not a failure to report', () => {
    const down = { status: 'reconnecting' } as unknown as Redis;
    const breaker = new RedisBreaker(down, 50);
    expect(breaker.failed()).toBe(false);
    expect(breaker.usable).toBe(down);
    expect(new RedisBreaker(undefined).usable).toBeUndefined();
  });
});

import { RowCache } from '../../../guards/runtime/rowCache';

describe('per-row output cache', () => {
  test('the same row in the same scope has the same key; another scope or row another key', async () => {
    const cache = new RowCache<number>(16);
    const [a, b, c] = await cache.keys('m|default@1', [
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 4],
    ]);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(cache.key('m|default@2', [1, 2, 3])).not.toBe(a);
    // Ids are 32-bit: 256 and 1<<16 must not collide with byte-wise neighbours.
    expect(cache.key('s', [256])).not.toBe(cache.key('s', [1, 0]));
    expect(cache.key('s', [1, 2])).not.toBe(cache.key('s', [1, 2, 0]));
  });

  test('keeps at most its capacity, least recently used out first', () => {
    const cache = new RowCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  test('hashes many rows in steps with the event loop turning between them', async () => {
    const cache = new RowCache<number>(0);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const rows = Array.from({ length: 20_000 }, (_, i) => Array.from({ length: 64 }, (_, k) => i + k));
    const keys = await cache.keys('s', rows);
    clearInterval(timer);
    expect(new Set(keys).size).toBe(rows.length);
    expect(ticks).toBeGreaterThan(0);
  });

  test('a row being scored is shared until it returns, then cached; a failed run is forgotten', async () => {
    const cache = new RowCache<number>(16);
    let finish!: (value: number) => void;
    const run = new Promise<number>((resolve) => (finish = resolve));
    cache.track('a', run, 3);
    expect(cache.running('a')).toEqual({ output: run, position: 3 });
    expect(cache.get('a')).toBeUndefined();
    finish(7);
    await run;
    await Promise.resolve();
    expect(cache.running('a')).toBeUndefined();
    expect(cache.get('a')).toBe(7);

    const failed = Promise.reject(new Error('worker gone'));
    cache.track('b', failed);
    expect(cache.running('b')?.output).toBe(failed);
    await failed.catch(() => undefined);
    await Promise.resolve();
    expect(cache.running('b')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.runningCount).toBe(0);
  });
});

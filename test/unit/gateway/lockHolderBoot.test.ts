import { hostname } from 'node:os';

/** Where the machine does not say its boot (macOS, Windows, a /proc without boot_id), a live holder of this host keeps its lock however long it was paused. */
test('without boot_id, a live holder of this host silent past the stale time (paused) keeps its lock', () => {
  jest.isolateModules(() => {
    jest.doMock('node:fs', () => {
      const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
      return {
        ...actual,
        readFileSync: (p: string, ...rest: unknown[]) => {
          if (p === '/proc/sys/kernel/random/boot_id') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
          return (actual.readFileSync as (...a: unknown[]) => unknown)(p, ...rest);
        },
      };
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lock = require('../../../gateway/lockHolder') as typeof import('../../../gateway/lockHolder');
    expect(lock.BOOT_ID).toBeUndefined();
    const written = lock.parseLock(lock.lockContent('t'));
    expect(written.boot).toBeUndefined();
    // The parent process stands for a live gateway of this host, paused 61 s.
    expect(lock.holderGone({ ...written, host: hostname(), pid: process.ppid, token: 'theirs' }, 61_000, 60_000)).toBe(false);
  });
});

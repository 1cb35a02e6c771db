import { textCacheKey, textCacheKeyAsync } from '../../../guards/runtime/cacheKey';
import { CallerAborted, DeadlineExceeded, withDeadline } from '../../../guards/runtime/deadline';
import { InputRefused, toGuardError } from '../../../guards/runtime/errors';
import { errorVerdict } from '../../../guards/types';
import { LruCache } from '../../../guards/runtime/lruCache';
import { MicroBatcher } from '../../../guards/runtime/microBatcher';
import { nextTurn } from '../../../guards/runtime/yield';
import { getEventListeners } from 'node:events';

describe('MicroBatcher', () => {
  it('one abort listener per signal however many jobs wait on it, removed once they settle', async () => {
    const batcher = new MicroBatcher(async (xs: number[]) => xs, { maxBatchSize: 4, maxWaitMs: 0 });
    const controller = new AbortController();
    // A check scanning 20 texts submits 20 jobs on its one signal at once.
    const pending = Array.from({ length: 20 }, (_, i) => batcher.submit([i], controller.signal));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect((await Promise.all(pending)).flat()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an abort fails every job still waiting on that signal, and only those', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new MicroBatcher(async (xs: number[]) => {
      await gate;
      return xs;
    }, { maxBatchSize: 1, maxWaitMs: 0 });
    const aborted = new AbortController();
    const other = new AbortController();
    const first = batcher.submit([1], other.signal);
    const doomed = [batcher.submit([2], aborted.signal), batcher.submit([3], aborted.signal)];
    const kept = batcher.submit([4], other.signal);
    aborted.abort();
    for (const p of doomed) await expect(p).rejects.toThrow();
    expect(getEventListeners(aborted.signal, 'abort')).toHaveLength(0);
    release();
    expect(await first).toEqual([1]);
    expect(await kept).toEqual([4]);
  });

  function echo(delayMs = 0) {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>(
      async (inputs) => {
        batches.push([...inputs]);
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        return inputs.map((x) => x * 10);
      },
      { maxBatchSize: 4, maxWaitMs: 5 },
    );
    return { batcher, batches };
  }

  it('returns outputs in input order, in batches of at most maxBatchSize', async () => {
    const { batcher, batches } = echo();
    expect(await batcher.submit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('puts inputs of concurrent submissions in one batch', async () => {
    const { batcher, batches } = echo();
    const [a, b, c] = await Promise.all([batcher.submit([1]), batcher.submit([2]), batcher.submit([3])]);
    expect([a, b, c]).toEqual([[10], [20], [30]]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('takes from waiting submissions in turn, so a big one does not starve a small one', async () => {
    const { batcher, batches } = echo(5);
    const big = batcher.submit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const small = batcher.submit([100]);
    await Promise.all([big, small]);
    expect(batches[0]).toEqual([1, 2, 3, 4]); // full before the small one arrived
    expect(batches[1]).toContain(100);
  });

  it('with maxWaitMs 0, sends what was submitted in the same turn as one batch, and no timer', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>(
      async (inputs) => {
        batches.push([...inputs]);
        return inputs;
      },
      { maxBatchSize: 16, maxWaitMs: 0 },
    );
    const same = await Promise.all([batcher.submit([1]), batcher.submit([2, 3]), batcher.submit([4])]);
    expect(same).toEqual([[1], [2, 3], [4]]);
    expect(batches.map((b) => [...b].sort())).toEqual([[1, 2, 3, 4]]);
    await batcher.submit([5]);
    expect(batches[1]).toEqual([5]);
  });

  it('waits at most maxWaitMs for a batch to fill', async () => {
    jest.useFakeTimers();
    try {
      const { batcher, batches } = echo();
      const done = batcher.submit([1]);
      await jest.advanceTimersByTimeAsync(4);
      expect(batches).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(batches).toEqual([[1]]);
      expect(await done).toEqual([10]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects every waiting submission when a run fails, and keeps working afterwards', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>(
      async (inputs) => {
        if (fail) throw new Error('model broke');
        return inputs;
      },
      { maxBatchSize: 8, maxWaitMs: 1 },
    );
    await expect(Promise.all([batcher.submit([1]), batcher.submit([2])])).rejects.toThrow('model broke');
    fail = false;
    expect(await batcher.submit([3])).toEqual([3]);
  });

  it('drops the waiting inputs of an aborted submission', async () => {
    const { batcher, batches } = echo(10);
    const first = batcher.submit([1, 2, 3, 4]);
    const controller = new AbortController();
    const aborted = batcher.submit([5, 6], controller.signal);
    controller.abort(new Error('timeout'));
    await expect(aborted).rejects.toThrow('timeout');
    await first;
    await new Promise((r) => setTimeout(r, 20));
    expect(batches.flat()).not.toContain(5);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1);
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.size).toBe(2);
  });

  it('stores nothing with capacity 0', () => {
    const c = new LruCache<string, number>(0);
    c.set('a', 1);
    expect(c.get('a')).toBeUndefined();
  });
});

describe('cache keys', () => {
  it('hash the text (no content in the key) and separate models and kinds', () => {
    const key = textCacheKey('model', 'injection', 'secret prompt');
    expect(key).not.toContain('secret');
    expect(key).not.toBe(textCacheKey('model', 'jailbreak', 'secret prompt'));
    expect(key).not.toBe(textCacheKey('other', 'injection', 'secret prompt'));
  });

  it('are the same hashed in steps, even with surrogate pairs at step edges', async () => {
    const long = '\u{1F600}x'.repeat(300_000);
    expect(await textCacheKeyAsync('m', 'k', long)).toBe(textCacheKey('m', 'k', long));
  });
});

describe('withDeadline', () => {
  it('returns the work\'s result in time', async () => {
    expect(await withDeadline(1000, undefined, async () => 42)).toBe(42);
  });

  it('gives up after the budget and aborts the work\'s signal', async () => {
    let signal: AbortSignal | undefined;
    const work = withDeadline(10, undefined, (s) => {
      signal = s;
      return new Promise<number>(() => undefined);
    });
    await expect(work).rejects.toBeInstanceOf(DeadlineExceeded);
    expect(signal?.aborted).toBe(true);
  });

  it('drops the remaining work of a check that failed, and leaves a finished one alone', async () => {
    let failedSignal: AbortSignal | undefined;
    await expect(
      withDeadline(1000, undefined, async (s) => {
        failedSignal = s;
        throw new Error('model run failed');
      }),
    ).rejects.toThrow('model run failed');
    expect(failedSignal?.aborted).toBe(true);
    let finishedSignal: AbortSignal | undefined;
    await withDeadline(1000, undefined, async (s) => {
      finishedSignal = s;
      return 1;
    });
    expect(finishedSignal?.aborted).toBe(false);
  });

  it('gives up when the caller aborts', async () => {
    const controller = new AbortController();
    const work = withDeadline(1000, controller.signal, () => new Promise<number>(() => undefined));
    controller.abort();
    await expect(work).rejects.toBeInstanceOf(CallerAborted);
  });
});

describe('toGuardError', () => {
  it('maps failures to the policy\'s error kinds', () => {
    expect(toGuardError(new DeadlineExceeded(5)).type).toBe('timeout');
    expect(toGuardError(new InputRefused('too big'))).toEqual({ type: 'bad_input', message: 'too big' });
    expect(toGuardError(new Error('onnx'))).toEqual({ type: 'model_error', message: 'model run failed: onnx' });
  });

  it("a check the request's end cut short is cancelled, labelled apart from a guard's failures", () => {
    const error = toGuardError(new CallerAborted());
    expect(error.type).toBe('cancelled');
    expect(errorVerdict('prompt_guard', 'm', error, 1).label).toBe('cancelled');
    expect(errorVerdict('prompt_guard', 'm', toGuardError(new DeadlineExceeded(5)), 1).label).toBe('error');
  });
});

describe('nextTurn', () => {
  it('grants one waiter per event-loop iteration, first come first served', async () => {
    const log: string[] = [];
    let ticks = 0;
    const tick = () => {
      log.push('tick');
      if (++ticks < 4) setImmediate(tick);
    };
    const turns = ['a', 'b', 'c'].map((x) => nextTurn().then(() => log.push(x)));
    setImmediate(tick);
    await Promise.all(turns);
    expect(log.filter((x) => x !== 'tick')).toEqual(['a', 'b', 'c']);
    // The loop turned (other callbacks ran) between two grants.
    expect(log.slice(log.indexOf('a'), log.indexOf('b'))).toContain('tick');
    expect(log.slice(log.indexOf('b'), log.indexOf('c'))).toContain('tick');
  });
});

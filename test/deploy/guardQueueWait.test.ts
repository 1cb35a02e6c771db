import { MicroBatcher, observeQueueWait } from '../../guards/runtime/microBatcher';

/**
 * The micro-batcher's queue-wait report (behind safety_guard_queue_wait_seconds): one wait per
 * input, measured from its submit() to the start of the run that took it, and batching exactly as
 * without an observer. Orderings only (a later run's inputs waited longer), never durations.
 */
describe('guard queue wait', () => {
  afterEach(() => observeQueueWait(undefined));

  /** A batcher whose runs wait for the test to release them, one at a time. */
  function gatedBatcher(maxBatchSize: number) {
    const batches: number[][] = [];
    const gates: (() => void)[] = [];
    const batcher = new MicroBatcher<number, number>(
      async (inputs) => {
        batches.push([...inputs]);
        await new Promise<void>((release) => gates.push(release));
        return inputs.map((x) => x * 2);
      },
      { maxBatchSize, maxWaitMs: 0 },
    );
    const releaseNext = async () => {
      while (gates.length === 0) await new Promise((r) => setImmediate(r));
      gates.shift()!();
    };
    return { batcher, batches, releaseNext };
  }

  test('one wait per input; inputs of a later run waited longer than those of the first', async () => {
    const waits: number[] = [];
    observeQueueWait((ms) => waits.push(ms));
    const { batcher, batches, releaseNext } = gatedBatcher(2);
    const done = batcher.submit([1, 2, 3, 4, 5]);
    await releaseNext();
    await releaseNext();
    await releaseNext();
    expect(await done).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(waits).toHaveLength(5);
    expect(waits.every((w) => w >= 0)).toBe(true);
    // The second run started after the first one ended; the third after the second.
    expect(Math.min(waits[2], waits[3])).toBeGreaterThan(Math.max(waits[0], waits[1]));
    expect(waits[4]).toBeGreaterThan(Math.max(waits[2], waits[3]));
  });

  test('batching is the same with and without an observer, and an observer that throws fails nothing', async () => {
    const run = async () => {
      const { batcher, batches, releaseNext } = gatedBatcher(3);
      const results = Promise.all([batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5, 6])]);
      for (let i = 0; i < 2; i++) await releaseNext();
      return { results: await results, batches };
    };
    const without = await run();
    observeQueueWait(() => {
      throw new Error('observer bug');
    });
    const withThrowingObserver = await run();
    expect(withThrowingObserver).toEqual(without);
    expect(without.results).toEqual([[2, 4], [6], [8, 10, 12]]);
  });
});

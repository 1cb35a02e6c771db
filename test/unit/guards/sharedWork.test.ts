import { getEventListeners } from 'node:events';
import { SharedWork, untilAborted } from '../../../guards/runtime/sharedWork';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('work shared by callers asking for the same key', () => {
  test('callers during a run share it; a kept result stays after it, one not kept does not', async () => {
    const work = new SharedWork<number>(8);
    let runs = 0;
    const gate = deferred<number>();
    const run = () => {
      runs++;
      return gate.promise;
    };
    const a = work.get('short', run);
    const b = work.get('short', run);
    gate.resolve(42);
    expect(await Promise.all([a, b])).toEqual([42, 42]);
    expect(await work.get('short', run)).toBe(42);
    expect(runs).toBe(1);

    let unkeptRuns = 0;
    await work.get('unkept', async () => ++unkeptRuns, undefined, false);
    await work.get('unkept', async () => ++unkeptRuns, undefined, false);
    expect(unkeptRuns).toBe(2);
    expect(work.runningCount).toBe(0);
  });

  test("a caller waiting on a run that fails does the work itself; the starter sees the failure", async () => {
    const work = new SharedWork<string>(8);
    const gate = deferred<string>();
    const starter = work.get('k', () => gate.promise);
    const waiter = work.get('k', async () => 'done by the waiter');
    gate.reject(new Error('starter abandoned'));
    await expect(starter).rejects.toThrow('starter abandoned');
    await expect(waiter).resolves.toBe('done by the waiter');
    // The failure was not kept; the waiter's result was.
    expect(await work.get('k', async () => 'again')).toBe('done by the waiter');
  });

  test('several callers waiting on a run that fails: the first back runs it again, the others share that run', async () => {
    const work = new SharedWork<string>(8);
    const gate = deferred<string>();
    const starter = work.get('k', () => gate.promise);
    let runs = 0;
    const retry = deferred<string>();
    const rerun = () => {
      runs++;
      return retry.promise;
    };
    const waiters = Array.from({ length: 5 }, () => work.get('k', rerun));
    gate.reject(new Error('starter abandoned'));
    await expect(starter).rejects.toThrow('starter abandoned');
    retry.resolve('done once');
    expect(await Promise.all(waiters)).toEqual(new Array(5).fill('done once'));
    expect(runs).toBe(1);
  });

  test('a waiter whose own signal aborts stops waiting at once', async () => {
    const work = new SharedWork<number>(8);
    const gate = deferred<number>();
    const starter = work.get('k', () => gate.promise);
    const controller = new AbortController();
    const waiter = work.get('k', async () => 1, controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiter).rejects.toThrow('deadline');
    gate.resolve(7);
    await expect(starter).resolves.toBe(7);
    await expect(untilAborted(Promise.resolve(3), controller.signal)).rejects.toThrow('deadline');
  });

  test('every wait on one signal shares one abort listener (a check waits on shared work for each of its texts)', async () => {
    const controller = new AbortController();
    const gates = Array.from({ length: 20 }, () => deferred<number>());
    const waits = gates.map((g) => untilAborted(g.promise, controller.signal));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    gates.forEach((g, i) => i < 10 && g.resolve(i));
    expect(await Promise.all(waits.slice(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const rest = waits.slice(10).map((w) => w.catch((err: Error) => err.message));
    controller.abort(new Error('deadline'));
    expect(await Promise.all(rest)).toEqual(Array(10).fill('deadline'));
  });
});

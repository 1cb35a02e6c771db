import { MicroBatcher } from '../../../guards/runtime/microBatcher';

/** A runner whose runs finish only when the test says so. */
function controlledRunner() {
  const running: { inputs: number[]; finish: () => void }[] = [];
  const runner = (inputs: number[]) =>
    new Promise<number[]>((resolve) => {
      running.push({ inputs, finish: () => resolve(inputs.map((i) => i * 10)) });
    });
  return { running, runner };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('micro-batcher with several batches in flight (one per ONNX worker)', () => {
  test('a long job fills every runner at once; the rest waits for a free one', async () => {
    const { running, runner } = controlledRunner();
    const batcher = new MicroBatcher<number, number>(runner, { maxBatchSize: 4, maxWaitMs: 0, maxConcurrentBatches: 2 });
    const job = batcher.submit(Array.from({ length: 12 }, (_, i) => i));
    await turn();
    expect(running.map((r) => r.inputs)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    running[0]!.finish();
    await turn();
    expect(running).toHaveLength(3);
    running[1]!.finish();
    running[2]!.finish();
    expect(await job).toEqual(Array.from({ length: 12 }, (_, i) => i * 10));
    expect(batcher.stats).toMatchObject({ batches: 3, inputs: 12, largestBatch: 4 });
  });

  test('with one runner (the default), batches run one at a time', async () => {
    const { running, runner } = controlledRunner();
    const batcher = new MicroBatcher<number, number>(runner, { maxBatchSize: 2, maxWaitMs: 0 });
    const job = batcher.submit([1, 2, 3, 4]);
    await turn();
    expect(running).toHaveLength(1);
    running[0]!.finish();
    await turn();
    expect(running).toHaveLength(2);
    running[1]!.finish();
    expect(await job).toEqual([10, 20, 30, 40]);
  });

  test('inputs that arrive while every runner is busy go as soon as one frees; beside a free runner they wait for their timer', async () => {
    const { running, runner } = controlledRunner();
    const batcher = new MicroBatcher<number, number>(runner, { maxBatchSize: 4, maxWaitMs: 10_000, maxConcurrentBatches: 2 });
    const first = batcher.submit(Array.from({ length: 8 }, (_, i) => i));
    await turn();
    expect(running).toHaveLength(2);
    const queued = batcher.submit([8]);
    running[0]!.finish();
    await turn();
    // Both runners were busy when it came: it goes now, no 10 s wait.
    expect(running.map((r) => r.inputs)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8]]);
    running[1]!.finish();
    running[2]!.finish();
    await first;
    expect(await queued).toEqual([80]);
    const lone = batcher.submit([9]);
    const other = batcher.submit([10]);
    await turn();
    // Runners free, a 10 s wait: the lone inputs are still collecting company.
    expect(running).toHaveLength(3);
    batcher.submit([11, 12]).catch(() => undefined);
    await turn();
    expect(running[3]!.inputs).toEqual([9, 10, 11, 12]);
    running[3]!.finish();
    expect(await lone).toEqual([90]);
    expect(await other).toEqual([100]);
    batcher.close();
  });

  test('refuses a concurrency that is not a positive integer', () => {
    expect(() => new MicroBatcher<number, number>(async (x) => x, { maxBatchSize: 1, maxWaitMs: 0, maxConcurrentBatches: 0 })).toThrow(/maxConcurrentBatches/);
  });
});

test('close() fails every waiting job at once, none left hanging', async () => {
  const { running, runner } = controlledRunner();
  const batcher = new MicroBatcher<number, number>(runner, { maxBatchSize: 1, maxWaitMs: 0 });
  const jobs = Array.from({ length: 6 }, (_, i) => batcher.submit([i]).then(() => 'resolved', (err: Error) => err.message));
  await turn();
  expect(running).toHaveLength(1);
  batcher.close();
  running[0]!.finish();
  const settled = await Promise.race([Promise.all(jobs), new Promise((r) => setTimeout(() => r('some job still pending'), 1000))]);
  expect(settled).toEqual(expect.arrayContaining(['batcher is closed']));
  expect((settled as string[]).filter((s) => s === 'batcher is closed').length).toBeGreaterThanOrEqual(5);
});

describe('micro-batcher outputs per input', () => {
  test("a job's inputs are told their outputs as each batch returns, before the job resolves", async () => {
    const { running, runner } = controlledRunner();
    const batcher = new MicroBatcher<number, number>(runner, { maxBatchSize: 2, maxWaitMs: 0 });
    const heard: [number, number][] = [];
    let resolved = false;
    const job = batcher.submit([1, 2, 3, 4], undefined, (index, output) => heard.push([index, output]));
    void job.then(() => (resolved = true));
    await turn();
    running[0]!.finish();
    await turn();
    // The first batch's two inputs are known while the second batch still runs.
    expect(heard).toEqual([
      [0, 10],
      [1, 20],
    ]);
    expect(resolved).toBe(false);
    running[1]!.finish();
    expect(await job).toEqual([10, 20, 30, 40]);
    expect(heard).toHaveLength(4);
  });
});

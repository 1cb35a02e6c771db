/**
 * Collects model inputs from concurrent checks into batches: a batch goes out when it is full
 * (maxBatchSize) or when the oldest waiting input has waited maxWaitMs (0: at the next turn of
 * the event loop, so everything submitted in the current turn shares the run, and an idle
 * guard adds no wait). Up to `maxConcurrentBatches` batches run at once (one per ONNX worker of
 * the pool, so one long input keeps every core busy); inputs that arrive while they run form the
 * next batch, so under load batches fill up by themselves without any timer.
 *
 * Fairness: each submission is a job, and a batch takes inputs from the waiting jobs in turn,
 * so a 500-segment document does not hold a one-line chat message behind it.
 */

export interface MicroBatcherOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  /** Batches running at once; default 1. */
  maxConcurrentBatches?: number;
}

/** Runs one batch; must return one output per input, in order. */
export type BatchRunner<I, O> = (inputs: I[]) => Promise<O[]>;

/** Told, per input, how long it waited between submit() and the start of the run that took it (ms). */
export type QueueWaitObserver = (waitMs: number) => void;

let queueWaitObserver: QueueWaitObserver | undefined;

/**
 * Sets the process-wide queue-wait observer (undefined: none). The gateway's metrics register one;
 * guards stay free of telemetry, and batching behaves the same with or without it.
 */
export function observeQueueWait(observer: QueueWaitObserver | undefined): void {
  queueWaitObserver = observer;
}

interface Job<I, O> {
  inputs: I[];
  /** Index of the next input of this job that has not been put in a batch. */
  next: number;
  outputs: O[];
  remaining: number;
  resolve: (outputs: O[]) => void;
  reject: (err: Error) => void;
  done: boolean;
  submittedAt: number;
  /** The caller's signal, while the job waits on it. */
  signal?: AbortSignal;
  /** Told each input's output as its batch returns, before the whole job resolves. */
  onOutput?: (index: number, output: O) => void;
}

export class MicroBatcher<I, O> {
  private jobs: Job<I, O>[] = [];
  private cursor = 0;
  /** Batches running now. */
  private running = 0;
  private readonly concurrency: number;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private closed = false;
  /**
   * Jobs waiting per caller signal, with one abort listener per signal: one check submits a job
   * per text on the same signal, often more than ten at once (MaxListenersExceededWarning), and
   * the listener goes when the signal's last job settles.
   */
  private readonly bySignal = new Map<AbortSignal, { jobs: Set<Job<I, O>>; onAbort: () => void }>();
  /** Counts batches and their sizes, for tests and the benchmark. */
  readonly stats = { batches: 0, inputs: 0, largestBatch: 0 };

  constructor(
    private readonly runner: BatchRunner<I, O>,
    private readonly options: MicroBatcherOptions,
  ) {
    if (!Number.isInteger(options.maxBatchSize) || options.maxBatchSize < 1) throw new Error('maxBatchSize must be a positive integer');
    if (!(options.maxWaitMs >= 0)) throw new Error('maxWaitMs must be >= 0');
    this.concurrency = options.maxConcurrentBatches ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new Error('maxConcurrentBatches must be a positive integer');
  }

  /**
   * Resolves with one output per input once all of them ran; rejects when `signal` aborts first.
   * `onOutput` hears each input's output as soon as its batch returns (a scan sharing one row of a
   * long job waits for that row, not the job).
   */
  submit(inputs: I[], signal?: AbortSignal, onOutput?: (index: number, output: O) => void): Promise<O[]> {
    if (this.closed) return Promise.reject(new Error('batcher is closed'));
    if (inputs.length === 0) return Promise.resolve([]);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<O[]>((resolve, reject) => {
      const job: Job<I, O> = { inputs, next: 0, outputs: new Array<O>(inputs.length), remaining: inputs.length, resolve, reject, done: false, submittedAt: performance.now(), onOutput };
      this.jobs.push(job);
      if (signal) this.watch(job, signal);
      this.schedule();
    });
  }

  private watch(job: Job<I, O>, signal: AbortSignal): void {
    job.signal = signal;
    let entry = this.bySignal.get(signal);
    if (!entry) {
      const jobs = new Set<Job<I, O>>();
      const onAbort = () => {
        for (const waiting of [...jobs]) this.fail(waiting, abortError(signal));
      };
      entry = { jobs, onAbort };
      this.bySignal.set(signal, entry);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    entry.jobs.add(job);
  }

  private unwatch(job: Job<I, O>): void {
    const signal = job.signal;
    if (!signal) return;
    job.signal = undefined;
    const entry = this.bySignal.get(signal);
    if (!entry) return;
    entry.jobs.delete(job);
    if (entry.jobs.size === 0) {
      this.bySignal.delete(signal);
      signal.removeEventListener('abort', entry.onAbort);
    }
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    // fail() removes the job from the list: walk a copy, or every second job is skipped and hangs.
    for (const job of [...this.jobs]) this.fail(job, new Error('batcher is closed'));
  }

  private pendingCount(): number {
    let n = 0;
    for (const job of this.jobs) n += job.inputs.length - job.next;
    return n;
  }

  private schedule(): void {
    if (this.running >= this.concurrency || this.closed) return;
    const pending = this.pendingCount();
    if (pending === 0) return;
    if (pending >= this.options.maxBatchSize) {
      this.clearTimer();
      this.flush();
    } else if (!this.timer) {
      const go = () => {
        this.timer = undefined;
        this.flush();
      };
      this.timer = this.options.maxWaitMs === 0 ? setImmediate(go) : setTimeout(go, this.options.maxWaitMs);
    }
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = undefined;
  }

  /** Takes up to maxBatchSize inputs, one job at a time in turn. */
  private takeBatch(): { job: Job<I, O>; index: number; input: I }[] {
    const batch: { job: Job<I, O>; index: number; input: I }[] = [];
    let idle = 0;
    while (batch.length < this.options.maxBatchSize && this.jobs.length > 0 && idle < this.jobs.length) {
      if (this.cursor >= this.jobs.length) this.cursor = 0;
      const job = this.jobs[this.cursor];
      if (job.next < job.inputs.length) {
        batch.push({ job, index: job.next, input: job.inputs[job.next] });
        job.next++;
        idle = 0;
      } else {
        idle++;
      }
      this.cursor++;
    }
    return batch;
  }

  /** Starts one batch; with a runner still free, more waiting goes now when it fills a batch, else at its timer. */
  private flush(): void {
    if (this.running >= this.concurrency || this.closed) return;
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    void this.runBatch(batch);
    if (this.running < this.concurrency && this.pendingCount() > 0) this.schedule();
  }

  private async runBatch(batch: { job: Job<I, O>; index: number; input: I }[]): Promise<void> {
    this.running++;
    this.stats.batches++;
    this.stats.inputs += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    reportQueueWaits(batch);
    try {
      const outputs = await this.runner(batch.map((b) => b.input));
      if (outputs.length !== batch.length) throw new Error(`batch runner returned ${outputs.length} outputs for ${batch.length} inputs`);
      batch.forEach((b, i) => {
        if (b.job.done) return;
        b.job.outputs[b.index] = outputs[i];
        try {
          b.job.onOutput?.(b.index, outputs[i]);
        } catch {
          /* a listener's failure must not fail the batch */
        }
        if (--b.job.remaining === 0) this.finish(b.job);
      });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const b of batch) this.fail(b.job, error);
    } finally {
      const wasFull = this.running >= this.concurrency;
      this.running--;
      // Inputs that arrived while every runner was busy have already waited at least that long:
      // go now. Inputs that arrived beside a free runner wait for their timer, as on an idle guard.
      if (wasFull && this.pendingCount() > 0) {
        this.clearTimer();
        this.flush();
      } else {
        this.schedule();
      }
    }
  }

  private finish(job: Job<I, O>): void {
    job.done = true;
    this.unwatch(job);
    this.remove(job);
    job.resolve(job.outputs);
  }

  private fail(job: Job<I, O>, err: Error): void {
    if (job.done) return;
    job.done = true;
    this.unwatch(job);
    this.remove(job);
    job.reject(err);
  }

  private remove(job: Job<I, O>): void {
    const i = this.jobs.indexOf(job);
    if (i < 0) return;
    this.jobs.splice(i, 1);
    if (i < this.cursor) this.cursor--;
  }
}

function reportQueueWaits(batch: readonly { job: { submittedAt: number } }[]): void {
  const observe = queueWaitObserver;
  if (!observe) return;
  const now = performance.now();
  try {
    for (const b of batch) observe(now - b.job.submittedAt);
  } catch {
    /* an observer's failure must not fail the batch */
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

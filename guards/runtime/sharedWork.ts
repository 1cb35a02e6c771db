import { LruCache } from './lruCache';

/**
 * Work keyed by its input, shared by the callers that ask for the same key while it runs, and
 * (when the caller says so) a while after, in a short LRU: the rules of one guard read the same text one
 * event-loop turn apart (the default policy's jailbreak, pasted-injection and obfuscated-text
 * rules all read each user turn), and each tokenized it again. A run that fails (its starter's
 * deadline, its client gone) is not kept: the first caller that was waiting on it runs the work
 * again, and the other waiters share that run.
 */
export class SharedWork<V> {
  private readonly running = new Map<string, Promise<V>>();
  private readonly recent: LruCache<string, V>;

  constructor(capacity: number) {
    this.recent = new LruCache<string, V>(capacity);
  }

  /** `keep`: the result stays in the LRU after its run (else it is shared only while running). */
  async get(key: string, run: () => Promise<V>, signal?: AbortSignal, keep = true): Promise<V> {
    // After a shared run fails, look again: the first waiter back starts it anew and the others share
    // that run (each starting its own, a herd of waiters ran the same work N times at once).
    for (;;) {
      const kept = this.recent.get(key);
      if (kept !== undefined) return kept;
      const shared = this.running.get(key);
      if (!shared) return this.start(key, run, keep);
      try {
        return await untilAborted(shared, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
      }
    }
  }

  get runningCount(): number {
    return this.running.size;
  }

  clear(): void {
    this.recent.clear();
    this.running.clear();
  }

  private start(key: string, run: () => Promise<V>, keep: boolean): Promise<V> {
    const output = run();
    this.running.set(key, output);
    const done = () => {
      if (this.running.get(key) === output) this.running.delete(key);
    };
    output.then((value) => {
      if (keep) this.recent.set(key, value);
      done();
    }, done);
    return output;
  }
}

/** One promise per signal that rejects when it aborts: every wait on the signal races it, one abort listener in all. */
const abortions = new WeakMap<AbortSignal, Promise<never>>();

function aborted(signal: AbortSignal): Promise<never> {
  let abortion = abortions.get(signal);
  if (!abortion) {
    abortion = new Promise<never>((_resolve, reject) => {
      if (signal.aborted) reject(abortReason(signal));
      else signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
    });
    // Nothing may be left unhandled when no wait is racing it.
    abortion.catch(() => undefined);
    abortions.set(signal, abortion);
  }
  return abortion;
}

/**
 * `output`, or a rejection as soon as `signal` aborts (work another caller started may take longer
 * than this caller may wait). All waits on one signal share one abort listener: a check waits on
 * shared work for each of its texts at once, and a listener each raised MaxListenersExceededWarning.
 */
export function untilAborted<T>(output: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return output;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return Promise.race([output, aborted(signal)]);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

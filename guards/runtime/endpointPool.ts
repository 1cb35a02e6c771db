/**
 * Several replicas of one guard server (a Llama Guard on vLLM, a Prompt Guard on TEI) behind one
 * guard, the way engine/upstreams.ts spreads the engine over its replicas (the idea, not the code:
 * guards import nothing from engine/): calls go round-robin over the healthy replicas; a call
 * that fails in a way another replica may not (unreachable, 408, 429, any 5xx, TEI's 424, an
 * answer the gateway cannot read) moves on to the next; a failed replica is marked down at once and only a passing health check
 * brings it back, so one lucky call does not send traffic back to a flapping replica. A busy one
 * (429) is not down: it is asked once more at the end, after a pause. Down replicas are still
 * tried last: a stale health state must not refuse a check that could work.
 *
 * Guard calls only read (a classification, a temperature-0 completion), so trying another
 * replica after a failure repeats no side effect; it only costs time, and the caller's deadline
 * (its AbortSignal) bounds that. A single replica gets one more try after a short pause.
 */
import { type Dispatcher, request as httpRequest } from 'undici';
import type { GuardError } from '../types';
import { redactUrl } from './redactUrl';

/**
 * What one try at one replica came to; `busy`: the server said so (429), it is not broken.
 * `maybeTheCall`: a failure the call's own input may cause on every replica (a 500, an answer the
 * gateway cannot read): the replica is marked down only once another replica answered the same
 * call, so one request cannot take a whole pool down.
 */
export type AttemptResult<T> = { ok: true; value: T } | { ok: false; retryable: boolean; busy?: boolean; maybeTheCall?: boolean; error: GuardError };

export interface EndpointPoolOptions {
  /** Base URLs of the replicas (already normalized). */
  urls: readonly string[];
  /** The URL a health check GETs for a base URL (2xx: up). */
  healthUrl: (base: string) => string;
  /** Sent with health checks (the bearer key). */
  headers?: Record<string, string>;
  dispatcher?: Dispatcher;
  /** How often each replica is checked when there are several; default 5000 ms. */
  healthIntervalMs?: number;
  /** Pause before the one retry of a single replica; default 100 ms. */
  retryPauseMs?: number;
  /** Told when a replica goes down or comes back. */
  onChange?: (url: string, up: boolean, reason: string) => void;
}

/**
 * HTTP statuses another replica (or a moment later) may answer differently: every 5xx (a vLLM whose
 * engine died answers 500 while its health route still passes), not only the gateway-ish ones.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 424 || status === 429 || status >= 500;
}

/** Statuses an input can cause (a server's internal error on one text), unlike a proxy's 502/503/504 or a timeout. */
export function statusMaybeTheCall(status: number): boolean {
  return status >= 500 && status !== 502 && status !== 503 && status !== 504;
}

export class EndpointPool {
  private readonly up: boolean[];
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EndpointPoolOptions) {
    if (options.urls.length === 0) throw new Error('a guard server pool needs at least one URL');
    this.up = options.urls.map(() => true);
  }

  get urls(): readonly string[] {
    return this.options.urls;
  }

  isUp(index: number): boolean {
    return this.up[index] ?? false;
  }

  /** Starts periodic health checks when there are several replicas (unref'd: they never keep the process alive). */
  start(): this {
    if (this.options.urls.length > 1) this.timer ??= setInterval(() => void this.checkAll(), this.options.healthIntervalMs ?? 5000).unref();
    return this;
  }

  /** Checks every replica once now. */
  async checkAll(timeoutMs = 2000): Promise<void> {
    await Promise.all(
      this.options.urls.map(async (base, i) => {
        let ok = false;
        try {
          const res = await httpRequest(this.options.healthUrl(base), {
            method: 'GET',
            headers: this.options.headers,
            dispatcher: this.options.dispatcher,
            signal: AbortSignal.timeout(timeoutMs),
          });
          await res.body.dump();
          ok = res.statusCode >= 200 && res.statusCode < 300;
        } catch {
          ok = false;
        }
        this.set(i, ok, ok ? 'health check passed' : 'health check failed');
      }),
    );
  }

  /** Healthy replicas round-robin from this call's turn, then the unhealthy ones as a last resort. */
  order(): number[] {
    const n = this.options.urls.length;
    const start = this.turn++ % n;
    const rotated = Array.from({ length: n }, (_, k) => (start + k) % n);
    return [...rotated.filter((i) => this.up[i]), ...rotated.filter((i) => !this.up[i])];
  }

  /**
   * Tries `attempt` at each replica in order until one succeeds or fails in a way no other replica
   * would fix; returns the last failure otherwise. Stops when `signal` aborts (the caller reports it).
   * With several replicas, a try still unanswered after `hedgeAfterMs` (the caller passes half its
   * budget) gets company: the next healthy replica is asked too, and the first answer wins. A
   * replica that accepts a call and never answers (an engine hung behind a server whose health route
   * still answers) is overtaken and marked down, instead of taking the whole check with it; a pool
   * whose replicas are all slow but working still answers within the budget.
   */
  async run<T>(attempt: (base: string, signal: AbortSignal) => Promise<AttemptResult<T>>, signal: AbortSignal, hedgeAfterMs?: number): Promise<AttemptResult<T>> {
    const order = this.order();
    if (order.length === 1) order.push(order[0]!);
    const hedge = this.options.urls.length > 1 && hedgeAfterMs !== undefined && Number.isFinite(hedgeAfterMs) && hedgeAfterMs > 0 ? hedgeAfterMs : undefined;
    type Settled = { try: Try; result?: AttemptResult<T>; thrown?: unknown };
    type Try = { index: number; startedAt: number; controller: AbortController; settled: Promise<Settled> };
    const running: Try[] = [];
    const askedAgain = new Set<number>();
    // Failed in a way the call itself may cause: marked down once another replica answers it.
    const suspects: { index: number; reason: string }[] = [];
    let next = 0;
    let last: AttemptResult<T> | undefined;
    const start = async () => {
      const index = order[next]!;
      // A replica asked again (the lone one, or a busy one) gets a moment first.
      if (order.slice(0, next).includes(index)) await pauseFor(this.options.retryPauseMs ?? 100, signal);
      next++;
      const controller = new AbortController();
      const trySignal = AbortSignal.any([signal, controller.signal]);
      const t: Try = { index, startedAt: performance.now(), controller, settled: undefined as unknown as Promise<Settled> };
      t.settled = attempt(this.options.urls[index]!, trySignal).then(
        (result) => ({ try: t, result }),
        (thrown: unknown) => ({ try: t, thrown }),
      );
      running.push(t);
    };
    const stopAll = () => {
      for (const t of running) t.controller.abort();
    };
    while (!signal.aborted) {
      if (running.length === 0) {
        if (next >= order.length) break;
        await start();
        continue;
      }
      // A replica not yet asked, for a hedge (healthy ones come first in the order).
      // A replica marked down is asked too: its health state may be stale, and the try it would join hangs.
      const canHedge = hedge !== undefined && next < order.length && !running.some((t) => t.index === order[next]);
      let timer: NodeJS.Timeout | undefined;
      const hedged = canHedge ? new Promise<'hedge'>((resolve) => (timer = setTimeout(() => resolve('hedge'), hedge))) : undefined;
      const first = await Promise.race([...running.map((t) => t.settled), ...(hedged ? [hedged] : [])]);
      clearTimeout(timer);
      if (first === 'hedge') {
        await start();
        continue;
      }
      running.splice(running.indexOf(first.try), 1);
      if (first.thrown !== undefined) {
        // The caller's deadline or abort (reported by the caller), or a failure that is not a server's.
        stopAll();
        throw first.thrown;
      }
      const result = first.result!;
      if (result.ok) {
        // Overtaken: asked before the replica that answered, and silent for the whole hedge delay.
        // One asked later (the hedge itself, or a retry) had less time than the winner: not down.
        const now = performance.now();
        for (const t of running) {
          if (this.options.urls.length > 1 && t.index !== first.try.index && t.startedAt < first.try.startedAt && hedge !== undefined && now - t.startedAt >= hedge) {
            this.set(t.index, false, `${redactUrl(this.options.urls[t.index]!)} gave no answer within ${Math.round(now - t.startedAt)} ms; a replica asked after it answered`);
          }
        }
        if (this.options.urls.length > 1) for (const s of suspects) this.set(s.index, false, s.reason);
        stopAll();
        return result;
      }
      last = result;
      if (!result.retryable) {
        stopAll();
        return result;
      }
      if (result.busy) {
        // Busy, not broken: ask it once more at the end, within the caller's deadline.
        if (!askedAgain.has(first.try.index) && !order.slice(next).includes(first.try.index)) {
          askedAgain.add(first.try.index);
          order.push(first.try.index);
        }
      } else if (result.maybeTheCall) {
        suspects.push({ index: first.try.index, reason: `${result.error.message} (another replica answered the same call)` });
      } else if (this.options.urls.length > 1) {
        // A lone replica has no health checks to bring it back: only replicas of a pool go down.
        this.set(first.try.index, false, result.error.message);
      }
      // A try still running (the one the hedge overtook): the next replica takes the failed one's place now, not a hedge delay later.
      if (running.length > 0 && next < order.length) await start();
    }
    stopAll();
    return last ?? { ok: false, retryable: false, error: { type: 'unavailable', message: 'aborted before any guard server was tried' } };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private set(index: number, up: boolean, reason: string): void {
    if (this.up[index] === up) return;
    this.up[index] = up;
    this.options.onChange?.(this.options.urls[index]!, up, reason);
  }
}

function pauseFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

import { AbortEmitter, onAbort, type EngineSignal } from './abortEmitter';

/**
 * The signal one engine request runs under (undici takes an AbortEmitter as one): aborted when the
 * caller's signal aborts (the client went away, a relay stopped the engine) or when the total
 * timeout passes, whichever comes first, with the reasons `AbortSignal.any([signal,
 * AbortSignal.timeout(ms)])` would give. One timer, cleared by `done()` once the answer is over:
 * the `any` + `timeout` pair made two more AbortSignals per request, with weak references and a
 * timer left pending for the whole total timeout.
 */
export class RequestDeadline extends AbortEmitter {
  private readonly timer: NodeJS.Timeout;
  private expired = false;
  private readonly unfollow: (() => void) | undefined;

  constructor(
    totalMs: number,
    private readonly caller?: EngineSignal,
  ) {
    super();
    this.timer = setTimeout(() => this.expire(), totalMs);
    // As AbortSignal.timeout's: a pending deadline does not keep the process alive.
    this.timer.unref();
    if (caller?.aborted) this.abort(caller.reason);
    else if (caller) this.unfollow = onAbort(caller, () => this.abort(caller.reason));
  }

  /** True when the total timeout, not the caller, stopped the request. */
  get timedOut(): boolean {
    return this.expired && !this.caller?.aborted;
  }

  /** The request is over (its answer read, failed or dropped): nothing is left to abort. */
  readonly done = (): void => {
    clearTimeout(this.timer);
    this.unfollow?.();
  };

  private expire(): void {
    this.expired = true;
    this.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }
}

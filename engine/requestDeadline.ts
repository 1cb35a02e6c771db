/**
 * The signal one engine request runs under: aborted when the caller's signal aborts (the client
 * went away, a relay stopped the engine) or when the total timeout passes, whichever comes first,
 * with the reasons `AbortSignal.any([signal, AbortSignal.timeout(ms)])` would give. One controller
 * and one timer, cleared by `done()` once the answer is over: the `any` + `timeout` pair costs every
 * request two more signals, weak references, and a timer left pending for the whole total timeout.
 */
export class RequestDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private expired = false;

  constructor(
    totalMs: number,
    private readonly caller?: AbortSignal,
  ) {
    this.timer = setTimeout(() => this.expire(), totalMs);
    // As AbortSignal.timeout's: a pending deadline does not keep the process alive.
    this.timer.unref();
    if (caller?.aborted) this.controller.abort(caller.reason);
    else caller?.addEventListener('abort', this.follow);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True when the total timeout, not the caller, stopped the request. */
  get timedOut(): boolean {
    return this.expired && !this.caller?.aborted;
  }

  /** The request is over (its answer read, failed or dropped): nothing is left to abort. */
  readonly done = (): void => {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.follow);
  };

  private readonly follow = (): void => this.controller.abort(this.caller!.reason);

  private expire(): void {
    this.expired = true;
    this.controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }
}

import { EventEmitter } from 'node:events';

/**
 * The abort signal one engine request runs under, as undici takes one: aborted when the caller's
 * signal aborts (the client went away, a relay stopped the engine) or when the total timeout
 * passes, whichever comes first, with the reasons `AbortSignal.any([signal,
 * AbortSignal.timeout(ms)])` would give. An EventEmitter with `aborted`, `reason` and an 'abort'
 * event (undici's documented alternative to an AbortSignal) and one timer, cleared by `done()`
 * once the answer is over: in Node 20 each AbortSignal (an EventTarget) costs microseconds to make,
 * and the `any` + `timeout` pair made two more per request, with weak references and a timer left
 * pending for the whole total timeout.
 */
export class RequestDeadline extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  private readonly timer: NodeJS.Timeout;
  private expired = false;

  constructor(
    totalMs: number,
    private readonly caller?: AbortSignal,
  ) {
    super();
    this.timer = setTimeout(() => this.expire(), totalMs);
    // As AbortSignal.timeout's: a pending deadline does not keep the process alive.
    this.timer.unref();
    if (caller?.aborted) this.abort(caller.reason);
    else caller?.addEventListener('abort', this.follow);
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

  private readonly follow = (): void => this.abort(this.caller!.reason);

  private expire(): void {
    this.expired = true;
    this.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }

  private abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

import type { ServerResponse } from 'node:http';

/** How long a request whose outcome is still to be recorded counts after its response closed, at most. */
const AFTER_CLOSE_MS = 5000;

/**
 * Requests still on their way to a record, from arrival. Shutdown destroys the sockets left at
 * the end of its grace period; each of those requests then records its outcome (a 499, a
 * refusal) a moment later, and must find the audit log still open, so shutdown waits for them
 * (bounded) before it closes the log. A request that records (a guarded call, a refusal) is
 * `held`: it counts until `end()`, even after its response closed; any other request counts
 * until its response closes.
 */
export class InFlightCalls {
  private readonly open = new Map<ServerResponse, { held: boolean }>();
  private idle: (() => void)[] = [];

  begin(res: ServerResponse, held = false): void {
    const entry = { held };
    this.open.set(res, entry);
    res.once('close', () => {
      if (this.open.get(res) !== entry) return;
      if (!entry.held) this.end(res);
      // A call that never ends (a bug) must not hold shutdown for its whole drain.
      else setTimeout(() => this.end(res), AFTER_CLOSE_MS).unref();
    });
  }

  /** The request's outcome is still to be recorded: it counts until end(), even once its response closed. */
  hold(res: ServerResponse): void {
    const entry = this.open.get(res);
    if (entry) entry.held = true;
    else this.open.set(res, { held: true });
  }

  end(res: ServerResponse): void {
    if (!this.open.delete(res) || this.open.size > 0) return;
    const waiting = this.idle;
    this.idle = [];
    for (const wake of waiting) wake();
  }

  get size(): number {
    return this.open.size;
  }

  /** Waits until no request is in flight, or `timeoutMs`; resolves to how many were still in flight. */
  async drain(timeoutMs: number): Promise<number> {
    if (this.open.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.open.size;
  }
}

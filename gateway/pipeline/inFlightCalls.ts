/**
 * The guarded calls and refusals still on their way to a record. Shutdown destroys the sockets
 * left after its grace period; each of those calls then records its 499 a moment later, and
 * must find the audit log still open. Shutdown waits for them (bounded) before closing it.
 */
export class InFlightCalls {
  private readonly running = new Set<Promise<void>>();

  /** Runs `work` as one tracked call; its result and errors pass through unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    const settled: Promise<void> = work.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return work;
  }

  get size(): number {
    return this.running.size;
  }

  /** Waits until every tracked call settled, or `timeoutMs`; resolves to how many were still running. */
  async drain(timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    // Calls that start while draining (a request already parsed) are waited for too.
    const all = (async () => {
      while (this.running.size > 0) await Promise.all([...this.running]);
    })();
    await Promise.race([all, deadline]);
    clearTimeout(timer);
    return this.running.size;
  }
}

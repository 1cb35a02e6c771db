import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Disconnects a client that stops reading its answer. The relays already wait for `drain` (a slow
 * reader pauses the engine instead of growing a buffer); this bounds how long such a pause may
 * last, after which the response is destroyed, which aborts the engine request and frees the slot.
 * A client that reads slowly but steadily is never cut off: each drain restarts the clock.
 */
export function stalledWriteWatchdog(timeoutMs: number) {
  return (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer ??= setTimeout(() => res.destroy(), timeoutMs).unref();
    };
    const disarm = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      const ok = write(...args);
      if (!ok) arm();
      return ok;
    }) as ServerResponse['write'];
    res.end = ((...args: unknown[]) => {
      const out = end(...args);
      if (!res.writableFinished) arm();
      return out;
    }) as ServerResponse['end'];
    res.on('drain', disarm);
    res.on('close', disarm);
    next();
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Disconnects a client that stops reading its answer. The relays already wait for `drain` (a slow
 * reader pauses the engine instead of growing a buffer); this bounds how long such a pause may
 * last, after which the response is destroyed, which aborts the engine request and frees the slot.
 * A client that reads slowly but steadily is never cut off: each drain restarts the clock, and so
 * does any progress when the time is up (fewer bytes waiting than when the clock started: a whole
 * answer is one `end()`, after which no `drain` comes however steadily it is read). An answer
 * pipelined behind another, not yet on the socket, waits its turn without a clock.
 */
export function stalledWriteWatchdog(timeoutMs: number) {
  return (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) return;
      const waiting = unsent(res);
      timer = setTimeout(() => {
        timer = undefined;
        if (res.writableFinished || res.destroyed) return;
        if (!res.socket || unsent(res) < waiting) arm();
        else res.destroy();
      }, timeoutMs).unref();
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
    res.on('finish', disarm);
    res.on('close', disarm);
    next();
  };
}

/**
 * Bytes of this answer not yet taken by the kernel. A stream counts a write as pending until all of
 * it is sent (one 12 MB `end()` stays 12 MB however much left), so the socket's own queue in libuv
 * (`writeQueueSize`, which shrinks as the kernel takes bytes) is read where it is there.
 */
function unsent(res: ServerResponse): number {
  const handle = (res.socket as { _handle?: { writeQueueSize?: unknown } } | null)?._handle;
  const queued = typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0;
  return res.writableLength - (res.socket?.writableLength ?? 0) + queued;
}

/**
 * Cooperative scheduling for the CPU work guards still do on the event loop (sanitizing,
 * hashing, tokenizing; ONNX runs are in the worker thread).
 *
 * `nextTurn()` hands out event-loop turns one at a time, in FIFO order: each waiter runs in its
 * own loop iteration, with timers and I/O polled in between. Without it, the checks of a burst
 * (say 16 requests whose batch just came back from the worker) would all continue in the same
 * macrotask and hold the loop for the sum of their tokenization; with it, the loop is held for
 * at most one step of one check. An idle gateway pays one setImmediate per step.
 */
const waiting: (() => void)[] = [];
let scheduled = false;

function grantOne(): void {
  const next = waiting.shift();
  // Scheduled from inside an immediate, the next grant runs in the next loop iteration.
  if (waiting.length > 0) setImmediate(grantOne);
  else scheduled = false;
  next?.();
}

/** Resolves in a later event-loop turn of its own (one waiter per turn, first come first served). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!scheduled) {
      scheduled = true;
      setImmediate(grantOne);
    }
  });
}

/** A plain yield: pending I/O and earlier setImmediate callbacks run first. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits for this work's next turn, then stops it if the check was abandoned meanwhile. */
export async function pause(signal?: AbortSignal): Promise<void> {
  await nextTurn();
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

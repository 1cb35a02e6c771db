/**
 * Cooperative yielding for CPU work done on the event loop (sanitizing, hashing, tokenizing
 * long text): between two steps, pending I/O and earlier setImmediate callbacks run.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Yields, then stops the work if the check was abandoned meanwhile. */
export async function pause(signal?: AbortSignal): Promise<void> {
  await yieldToEventLoop();
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

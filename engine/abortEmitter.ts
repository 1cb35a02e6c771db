import { EventEmitter } from 'node:events';

/**
 * A stop switch for an engine call, in the form undici takes as a request's signal besides an
 * AbortSignal: an EventEmitter with `aborted`, `reason` and one 'abort' event. Made for every
 * request, so it is not an AbortSignal: in Node 20 each of those (an EventTarget) costs about 2 us
 * to make, and about as much again to add and remove a listener.
 */
export class AbortEmitter extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  /** Aborts once; without a reason, with AbortController.abort()'s default one. */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/** What an engine call can be stopped by. */
export type EngineSignal = AbortSignal | AbortEmitter;

/** Calls `listener` once when `signal` aborts (not when it has already); returns how to stop listening. */
export function onAbort(signal: EngineSignal, listener: () => void): () => void {
  if (signal instanceof AbortEmitter) {
    signal.once('abort', listener);
    return () => signal.off('abort', listener);
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * A time budget for one guard check. The check's work is abandoned (queued segments are
 * dropped through the signal) when the budget runs out or the caller aborts; an ONNX run that
 * already started finishes on its own thread and its result is discarded.
 */

export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`guard did not finish within ${timeoutMs} ms`);
    this.name = 'DeadlineExceeded';
  }
}

export class CallerAborted extends Error {
  constructor() {
    super('the request was aborted before the guard finished');
    this.name = 'CallerAborted';
  }
}

/**
 * Runs `work` with a signal that fires on timeout or when `outer` aborts, and settles as soon as
 * either happens, whether or not `work` notices.
 */
export async function withDeadline<T>(timeoutMs: number, outer: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onOuterAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const fail = (err: Error) => {
      controller.abort(err);
      reject(err);
    };
    if (outer?.aborted) return fail(new CallerAborted());
    onOuterAbort = () => fail(new CallerAborted());
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) timer = setTimeout(() => fail(new DeadlineExceeded(timeoutMs)), timeoutMs);
  });
  stop.catch(() => undefined); // settled through the race below
  try {
    return await Promise.race([work(controller.signal), stop]);
  } finally {
    if (timer) clearTimeout(timer);
    if (onOuterAbort) outer?.removeEventListener('abort', onOuterAbort);
    if (!controller.signal.aborted) controller.abort(new Error('guard check finished'));
  }
}

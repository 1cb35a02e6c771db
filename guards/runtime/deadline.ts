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
  let finished = false;
  try {
    const result = await Promise.race([work(controller.signal), stop]);
    finished = true;
    return result;
  } finally {
    if (timer) clearTimeout(timer);
    if (onOuterAbort) outer?.removeEventListener('abort', onOuterAbort);
    // Work that failed may have left some queued (other texts' segments): drop it. Work that
    // finished left nothing, so the common path creates no error and dispatches no event.
    if (!finished && !controller.signal.aborted) controller.abort(WORK_FAILED);
  }
}

const WORK_FAILED = new Error('the guard check failed; its remaining work is dropped');

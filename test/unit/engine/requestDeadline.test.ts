import { AbortEmitter, onAbort } from '../../../engine/abortEmitter';
import { RequestDeadline } from '../../../engine/requestDeadline';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RequestDeadline: the caller signal or the total timeout, as AbortSignal.any + AbortSignal.timeout', () => {
  test('the total timeout aborts with a TimeoutError and counts as timed out', async () => {
    const deadline = new RequestDeadline(10);
    await wait(30);
    expect(deadline.aborted).toBe(true);
    expect((deadline.reason as DOMException).name).toBe('TimeoutError');
    expect(deadline.timedOut).toBe(true);
  });

  test("the caller's abort passes on with its reason; not a timeout", async () => {
    const caller = new AbortController();
    const deadline = new RequestDeadline(10, caller.signal);
    const reason = new Error('client gone');
    caller.abort(reason);
    expect(deadline.aborted).toBe(true);
    expect(deadline.reason).toBe(reason);
    await wait(30);
    expect(deadline.reason).toBe(reason);
    expect(deadline.timedOut).toBe(false);
  });

  test('a caller signal aborted already: aborted at once, with its reason', () => {
    const caller = new AbortController();
    caller.abort();
    const deadline = new RequestDeadline(1000, caller.signal);
    expect(deadline.aborted).toBe(true);
    expect(deadline.reason).toBe(caller.signal.reason);
    deadline.done();
  });

  test("an 'abort' event, once, for undici's listener", () => {
    const caller = new AbortController();
    const deadline = new RequestDeadline(1000, caller.signal);
    const heard = jest.fn();
    deadline.on('abort', heard);
    caller.abort();
    caller.abort();
    expect(heard).toHaveBeenCalledTimes(1);
    deadline.done();
  });

  test('done() stops both: nothing aborts afterwards', async () => {
    const caller = new AbortController();
    const deadline = new RequestDeadline(10, caller.signal);
    deadline.done();
    caller.abort();
    await wait(30);
    expect(deadline.aborted).toBe(false);
    expect(deadline.timedOut).toBe(false);
  });
});

describe('AbortEmitter: the per-request stop switch an engine call takes instead of an AbortSignal', () => {
  test("aborts once, with AbortController's default reason; a deadline follows it", () => {
    const stop = new AbortEmitter();
    const deadline = new RequestDeadline(1000, stop);
    stop.abort();
    stop.abort(new Error('later'));
    expect(stop.aborted).toBe(true);
    expect(stop.reason).toMatchObject({ name: 'AbortError', message: 'This operation was aborted' });
    expect(deadline.aborted).toBe(true);
    expect(deadline.reason).toBe(stop.reason);
    expect(deadline.timedOut).toBe(false);
    deadline.done();
  });

  test('onAbort listens to either kind once, and can stop listening', () => {
    for (const make of [() => new AbortController(), () => new AbortEmitter()]) {
      const source = make();
      const signal = source instanceof AbortController ? source.signal : source;
      const heard = jest.fn();
      const stop = onAbort(signal, heard);
      const ignored = jest.fn();
      onAbort(signal, ignored)();
      source.abort();
      expect(heard).toHaveBeenCalledTimes(1);
      expect(ignored).not.toHaveBeenCalled();
      stop();
    }
  });
});

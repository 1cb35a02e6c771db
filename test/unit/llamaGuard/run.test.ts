import { type CheckContext, type CheckWork, runCheck } from '../../../guards/llamaGuard/run';
import type { GuardRequest } from '../../../guards/types';

const ctx: CheckContext = { guard: 'lg', model: 'm', timeoutMs: 50, system: 'as_user' };
const request: GuardRequest = {
  direction: 'output',
  texts: [],
  conversation: [
    { role: 'system', content: 'Be nice.' },
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ],
};
const never: CheckWork = () => new Promise(() => undefined);

describe('runCheck, prompts read apart', () => {
  it('a model call that throws ends the check: no call starts after it, and the ones under way are told to stop', async () => {
    const prompts: GuardRequest = { direction: 'input', texts: [], conversation: Array.from({ length: 16 }, (_, i) => ({ role: 'user' as const, content: `prompt ${i}`, alone: true as const })) };
    const signals: AbortSignal[] = [];
    let calls = 0;
    const work: CheckWork = (_turns, _role, signal) => {
      calls++;
      signals.push(signal);
      if (calls === 1) return Promise.reject(new Error('model run failed'));
      // The others wait until told to stop (a model run under way).
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }));
    };
    const verdict = await runCheck({ ...ctx, timeoutMs: 5_000 }, prompts, work);
    expect(verdict.error).toMatchObject({ type: 'model_error', message: 'model run failed' });
    expect(calls).toBeLessThanOrEqual(4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBeLessThanOrEqual(4);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });
});

describe('runCheck', () => {
  it('hands the work normalized turns and the role to classify', async () => {
    const work = jest.fn<ReturnType<CheckWork>, Parameters<CheckWork>>(async () => ({
      kind: 'assessed',
      assessment: { ok: true, label: 'unsafe', categories: ['S1'], excludedOnly: false },
      pUnsafe: 0.8,
    }));
    const verdict = await runCheck(ctx, request, work);
    expect(work.mock.calls[0]![0]).toEqual([
      { role: 'User', text: 'Be nice.\n\nhi' },
      { role: 'Agent', text: 'hello' },
    ]);
    expect(work.mock.calls[0]![1]).toBe('Agent');
    expect(verdict).toMatchObject({ guard: 'lg', model: 'm', label: 'unsafe', score: 0.8, categories: ['S1'], segmentsScanned: 1 });
    expect(verdict.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('answers timeout at the deadline even if the work never settles', async () => {
    const verdict = await runCheck(ctx, request, never);
    expect(verdict).toMatchObject({ label: 'error', error: { type: 'timeout', message: 'no answer within 50 ms' } });
    expect(verdict.latencyMs).toBeGreaterThanOrEqual(45);
  });

  it("passes the deadline to the work's signal", async () => {
    let seen: AbortSignal | undefined;
    await runCheck(ctx, request, (_t, _r, signal) => {
      seen = signal;
      return never(_t, _r, signal);
    });
    expect(seen?.aborted).toBe(true);
  });

  it('reports a caller abort as cancelled (not a guard failure), before or during the check', async () => {
    const before = new AbortController();
    before.abort();
    expect((await runCheck(ctx, { ...request, signal: before.signal }, never)).error).toEqual({
      type: 'cancelled',
      message: 'the request was aborted before the check',
    });
    const during = new AbortController();
    setTimeout(() => during.abort(), 5);
    expect((await runCheck({ ...ctx, timeoutMs: 5000 }, { ...request, signal: during.signal }, never)).error).toEqual({
      type: 'cancelled',
      message: 'the request was aborted before the guard finished',
    });
  });

  it('turns a throwing backend into model_error and bad conversations into bad_input', async () => {
    const boom: CheckWork = async () => {
      throw new Error('session exploded');
    };
    expect((await runCheck(ctx, request, boom)).error).toEqual({ type: 'model_error', message: 'session exploded' });
    const work = jest.fn(never);
    const verdict = await runCheck(ctx, { ...request, conversation: [{ role: 'user', content: 'x' }] }, work);
    expect(verdict.error?.type).toBe('bad_input');
    expect(work).not.toHaveBeenCalled();
  });
});

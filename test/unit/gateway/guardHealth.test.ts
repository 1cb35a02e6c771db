import { isFailing, nextHealth, observeGuard, type GuardHealthState } from '../../../gateway/pipeline/runtime/guardHealth';
import { logGuardFaults } from '../../../gateway/pipeline/runtime/guardFaultLog';
import type { Guard } from '../../../guards/types';

describe('guard health (pure)', () => {
  const at = '2025-06-01T00:00:00.000Z';
  const fail = (type: 'timeout' | 'unavailable' | 'model_error' | 'parse_error' | 'bad_input') => ({ error: { type, message: 'x' } });
  const run = (verdicts: Parameters<typeof nextHealth>[1][]) => verdicts.reduce<GuardHealthState>((s, v) => nextHealth(s, v, at), { consecutiveFailures: 0 });

  test('failing after N failed checks in a row; one success recovers', () => {
    expect(isFailing(run([fail('timeout'), fail('unavailable')]), 3)).toBe(false);
    expect(isFailing(run([fail('timeout'), fail('unavailable'), fail('model_error')]), 3)).toBe(true);
    expect(isFailing(run([fail('timeout'), fail('unavailable'), fail('model_error'), {}]), 3)).toBe(false);
    expect(run([fail('timeout'), {}, fail('timeout')]).consecutiveFailures).toBe(1);
  });

  test("bad_input is the request's problem: neither a failure nor a success", () => {
    expect(run([fail('timeout'), fail('bad_input'), fail('timeout')]).consecutiveFailures).toBe(2);
  });

  test('the last error is remembered with its type and time', () => {
    expect(run([fail('parse_error')]).lastError).toEqual({ type: 'parse_error', at, message: 'x' });
  });
});

describe("a guard's failures in the operator's log", () => {
  test('the first of each kind, then one a minute with how many were left out; successes and bad input say nothing', () => {
    const guard = { name: 'pg', model: 'm' } as unknown as Guard;
    const lines: string[] = [];
    logGuardFaults(guard, 'prompt_guard', (l) => lines.push(l), () => undefined);
    const t0 = Date.parse('2025-06-01T00:00:00Z');
    observeGuard(guard, { error: { type: 'unavailable', message: 'http://h/predict: connect ECONNREFUSED\n  at x' } }, t0);
    observeGuard(guard, { error: { type: 'unavailable', message: 'again' } }, t0 + 1_000);
    observeGuard(guard, { error: { type: 'timeout', message: 'no answer within 400 ms' } }, t0 + 2_000);
    observeGuard(guard, {}, t0 + 3_000);
    observeGuard(guard, { error: { type: 'bad_input', message: 'the request' } }, t0 + 4_000);
    observeGuard(guard, { error: { type: 'unavailable', message: 'still down' } }, t0 + 30_000);
    observeGuard(guard, { error: { type: 'unavailable', message: 'down a minute later' } }, t0 + 61_000);
    expect(lines).toEqual([
      'guard prompt_guard (m) failed: unavailable: http://h/predict: connect ECONNREFUSED at x',
      'guard prompt_guard (m) failed: timeout: no answer within 400 ms',
      'guard prompt_guard (m) failed: unavailable: down a minute later (2 more like it in the last 61 s)',
    ]);
  });

  test("a minute's left-out failures are logged when the minute ends, though no failure comes after it", () => {
    const guard = { name: 'pg', model: 'm' } as unknown as Guard;
    const lines: string[] = [];
    const timers: { run: () => void; afterMs: number }[] = [];
    logGuardFaults(guard, 'prompt_guard', (l) => lines.push(l), (run, afterMs) => timers.push({ run, afterMs }));
    const t0 = Date.parse('2025-06-01T00:00:00Z');
    observeGuard(guard, { error: { type: 'unavailable', message: 'first' } }, t0);
    expect(timers).toHaveLength(0);
    observeGuard(guard, { error: { type: 'unavailable', message: 'second' } }, t0 + 10_000);
    observeGuard(guard, { error: { type: 'unavailable', message: 'third' } }, t0 + 20_000);
    // One timer for the minute, due when it ends (60 s after the logged line).
    expect(timers.map((t) => t.afterMs)).toEqual([50_000]);
    timers[0]!.run();
    expect(lines).toEqual([
      'guard prompt_guard (m) failed: unavailable: first',
      'guard prompt_guard (m) failed: unavailable: third (the latest of 2 like it in the 60 s after the last line)',
    ]);
    // The next minute starts where that one ended: a failure within it is left out and counted again.
    observeGuard(guard, { error: { type: 'unavailable', message: 'fourth' } }, t0 + 70_000);
    expect(lines).toHaveLength(2);
    expect(timers.map((t) => t.afterMs)).toEqual([50_000, 50_000]);
    // A failure after that minute logs itself with the count; the minute's timer then says nothing more.
    observeGuard(guard, { error: { type: 'unavailable', message: 'fifth' } }, t0 + 121_000);
    timers[1]!.run();
    expect(lines).toEqual([
      'guard prompt_guard (m) failed: unavailable: first',
      'guard prompt_guard (m) failed: unavailable: third (the latest of 2 like it in the 60 s after the last line)',
      'guard prompt_guard (m) failed: unavailable: fifth (1 more like it in the last 61 s)',
    ]);
  });
});

import { isFailing, nextHealth, type GuardHealthState } from '../../../gateway/pipeline/runtime/guardHealth';

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
    expect(run([fail('parse_error')]).lastError).toEqual({ type: 'parse_error', at });
  });
});

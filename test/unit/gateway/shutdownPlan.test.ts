import { shutdownPlan } from '../../../gateway/cli/serveCommand';

describe('shutdownPlan (pure): the grace period shared between draining and telemetry', () => {
  test.each([1000, 4000, 30_000, 600_000])('grace %i ms: drain + telemetry + margin fit inside it', (grace) => {
    const plan = shutdownPlan(grace);
    expect(plan.drainMs).toBeGreaterThanOrEqual(grace / 2);
    expect(plan.drainMs + plan.marginMs).toBeLessThan(grace);
    expect(plan.telemetryMs).toBeLessThanOrEqual(5000);
  });
  test('long grace periods keep at most 5 s for what follows the drain', () => {
    expect(shutdownPlan(30_000).drainMs).toBe(25_000);
  });
});

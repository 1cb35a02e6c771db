import type { DevEngine } from '../../engine/devEngine/server';
import { eventually } from './keys';

/**
 * A replica held down after a timeout (engine/upstreams.ts): the next requests all go to the other
 * one, though the held one's health route answers, and once the hold ends it is back in the rotation.
 */
export async function expectHeldThenBack(send: () => Promise<Response>, hung: DevEngine, healthy: DevEngine): Promise<void> {
  const before = [hung.stats.requests, healthy.stats.requests];
  for (let i = 0; i < 4; i++) {
    const ok = await send();
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
  }
  expect([hung.stats.requests - before[0], healthy.stats.requests - before[1]]).toEqual([0, 4]);
  await eventually(async () => {
    const again = await send();
    await again.arrayBuffer();
    return hung.stats.requests > before[0];
  }, 'the held replica back');
}

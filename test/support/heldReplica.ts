import type { DevEngine } from '../../engine/devEngine/server';
import { eventually } from './keys';

/**
 * A replica held down after a timeout (engine/upstreams.ts): sends four requests and says their
 * statuses and how many each replica took, then waits until the held one takes one again (back in
 * the rotation; `eventually` throws if it never is). The caller asserts on what it returns.
 */
export async function heldThenBack(send: () => Promise<Response>, hung: DevEngine, healthy: DevEngine): Promise<{ statuses: number[]; taken: [number, number] }> {
  const before = [hung.stats.requests, healthy.stats.requests];
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const ok = await send();
    statuses.push(ok.status);
    await ok.arrayBuffer();
  }
  const taken: [number, number] = [hung.stats.requests - before[0], healthy.stats.requests - before[1]];
  await eventually(async () => {
    const again = await send();
    await again.arrayBuffer();
    return hung.stats.requests > before[0];
  }, 'the held replica back');
  return { statuses, taken };
}

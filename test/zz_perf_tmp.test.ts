/** @jest-environment ./test/integration/guards/support/onnxEnvironment.js */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createPromptGuard } from '../guards/promptGuard';
test('perf', async () => {
  const g = createPromptGuard({ name: 'pg', modelDir: 'test/fixtures/models/prompt-guard-v1-tiny', timeoutMs: 60000 });
  await g.load();
  let s = ''; while (s.length < 1_000_000) s += 'the quick brown fox does what it wants, please tell me a story about the weather today. ';
  for (let k = 0; k < 2; k++) {
  const h = monitorEventLoopDelay({ resolution: 1 }); h.enable();
  // gaps between setImmediate ticks
  let last = performance.now(); const gaps: number[] = []; let on = true;
  const tick = () => { const n = performance.now(); gaps.push(n - last); last = n; if (on) setImmediate(tick); }; setImmediate(tick);
  const t0 = performance.now();
  const v = await g.check({ direction: 'input', texts: [{ source: 'document', path: 'd', text: s + ' zzinject' + k }], conversation: [] });
  on = false; h.disable();
  gaps.sort((a, b) => b - a);
  console.log('check', (performance.now() - t0).toFixed(0), v.label, v.segmentsScanned, 'maxDelayMs', h.max / 1e6, 'p99', h.percentile(99) / 1e6, 'gaps top', gaps.slice(0, 8).map((x) => x.toFixed(1)).join(','), 'n', gaps.length);
  }
}, 120000);

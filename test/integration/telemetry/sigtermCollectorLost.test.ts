import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServeProcess } from '../../support/cliProcess';
import { FIXTURE_POLICY } from '../../support/gatewayHarness';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlpReceiver';

/**
 * The real `safety-gateway serve` process exports to a real OTLP receiver, which then goes away
 * (a collector restarted or lost). SIGTERM must still end the process within shutdown_grace_s,
 * however the exporters keep retrying. Before the fix it logged "stopped" and never exited.
 */
const GRACE_S = 4;

/** Resolves with the exit code, or with 'still running' once `boundMs` passed (then kills it). */
function exitWithin(child: ChildProcess, boundMs: number): Promise<number | null | 'still running'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('still running');
    }, boundMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('SIGTERM after the OTLP collector was lost', () => {
  let receiver: OtlpReceiver;
  afterAll(async () => receiver?.close());

  test('the process exits within the grace period, having said it stopped', async () => {
    receiver = await startOtlpReceiver();
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-sigterm-'));
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(config, `shutdown_grace_s: ${GRACE_S}\n`);
    const { child, url, stderr } = await startServeProcess(['--policy', FIXTURE_POLICY, '--config', config], {
      ENGINE_URL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BLRP_SCHEDULE_DELAY: '100',
    });
    try {
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }) });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      // The collector was reachable: spans, logs and metrics arrived.
      await receiver.waitFor(() => receiver.spans.length > 0 && receiver.logs.length > 0 && receiver.metrics.length > 0, 15_000, 'telemetry from the gateway process');
      await receiver.close();
      const exited = exitWithin(child, GRACE_S * 1000 + 5_000);
      child.kill('SIGTERM');
      const code = await exited;
      expect(code).not.toBe('still running');
      expect(code).toBe(0);
      expect(stderr()).toContain('SIGTERM: draining');
      expect(stderr()).toContain('stopped');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});

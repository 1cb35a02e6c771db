import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine } from '../../engine/devEngine/server';
import { AuditLog } from '../../gateway/audit/auditLog';
import { AuditRecorder } from '../../gateway/audit/auditRecorder';
import { hashApiKey } from '../../gateway/access/auth/apiKey';
import { GatewayConfig } from '../../gateway/config';
import { packageRoot } from '../../gateway/paths';
import type { DecisionRecorder, RequestRecord } from '../../gateway/record/requestRecord';
import { startGateway } from '../../gateway/server';

/**
 * The process under load for `npm run bench:load`: the dev engine and a gateway with guards, an
 * API key, rate limits and the real audit log, as `npm start` would run them. It reports over
 * IPC (its URL, then memory and record counts on request), so the load generator's own memory
 * and CPU stay out of the figures.
 */
export const BENCH_KEY = 'sk-sg-bench-load-key-000000000000000000000';

/** Counts what reaches the recorder and what the audit log made durable. */
class CountingRecorder implements DecisionRecorder {
  attempts = 0;
  written = 0;
  constructor(private readonly inner: DecisionRecorder) {}
  async record(record: RequestRecord): Promise<void> {
    this.attempts++;
    await this.inner.record(record);
    this.written++;
  }
}

async function main(): Promise<void> {
  const root = packageRoot();
  const bundledReady = existsSync(path.join(root, 'guards', 'models', 'prompt-guard-small', 'model.onnx'));
  const policy = bundledReady ? path.join(root, 'policies', 'default.yaml') : path.join(root, 'test', 'fixtures', 'policies', 'fixture.yaml');
  const engine = await startDevEngine({ tokenDelayMs: Number(process.env.LOAD_TOKEN_DELAY_MS ?? 2) });
  const auditDir = mkdtempSync(path.join(tmpdir(), 'sg-load-audit-'));
  const audit = new AuditLog({ dir: auditDir, fsync: 'always', fsyncIntervalMs: 1000, maxFileBytes: 64 * 1024 * 1024, maxFileAgeMs: 24 * 3_600_000 });
  const recorder = new CountingRecorder(new AuditRecorder(audit, undefined, 'bench-salt'));
  const config = GatewayConfig.parse({
    port: 0,
    policy,
    engine: { url: engine.baseUrl },
    // LOAD_WORKERS: the ONNX worker pool's size (default one per core), to compare pool sizes.
    ...(process.env.LOAD_WORKERS ? { guards: { workers: Number(process.env.LOAD_WORKERS) } } : {}),
    keys: { inline: [{ app: 'bench', hash: hashApiKey(BENCH_KEY), limits: { requests_per_minute: 10_000_000, tokens_per_minute: 1_000_000_000, concurrent_requests: 100_000 } }] },
  });
  const gateway = await startGateway({ config, recorder });
  const send = (message: object) => process.send?.(message);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'sample') {
      global.gc?.();
      const m = process.memoryUsage();
      // CPU of the whole process (main thread, ONNX workers, the dev engine beside them) and the
      // event loop's busy time: per request, they tell what a dedicated machine could serve even
      // when a shared one makes wall-clock throughput noisy.
      const cpu = process.cpuUsage();
      send({ type: 'sample', heapUsed: m.heapUsed, rss: m.rss, attempts: recorder.attempts, written: recorder.written, engineCompleted: engine.stats.completed, cpuMs: (cpu.user + cpu.system) / 1000, loopBusyMs: performance.eventLoopUtilization().active });
    }
    if (message.type === 'stop') {
      void gateway
        .shutdown(2000)
        .then(() => engine.close())
        .then(() => audit.close())
        .then(() => process.exit(0));
    }
  });
  send({ type: 'ready', url: gateway.url, policy: `${path.relative(root, policy)} (${bundledReady ? 'bundled models' : 'fixture models'})`, auditDir });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

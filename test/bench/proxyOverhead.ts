import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine } from '../../engine/devEngine/server';
import { GatewayConfig } from '../../gateway/config';
import { packageRoot } from '../../gateway/paths';
import { noopRecorder } from '../../gateway/requestRecord';
import { startGateway } from '../../gateway/server';
import { shutdownTelemetry } from '../../gateway/telemetry/telemetrySdk';
import { startOtlpReceiver } from '../support/otlpReceiver';
import { machine, summarize, table } from './stats';

/**
 * npm run bench: the same chat requests straight to the dev engine, through the gateway with no
 * guards, and through the gateway with the guards on, side by side in one run. Then the cost of
 * recording: the guarded gateway with telemetry and audit off vs on (OTLP to a loopback receiver,
 * audit log with fsync per record, and with fsync every 1 s), in interleaved rounds.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const PROMPT = 'Summarize the plot of a heist movie in two sentences, keeping it light and family friendly, with a twist at the end.';

async function run(baseUrl: string): Promise<{ latencies: number[]; guardMs: number[]; errors: number }> {
  const latencies: number[] = [];
  const guardMs: number[] = [];
  let errors = 0;
  let next = 0;
  const body = JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: PROMPT }], max_tokens: 64 });
  const worker = async () => {
    while (next < REQUESTS) {
      next++;
      const t0 = performance.now();
      const res = await fetch(`${baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200) errors++;
      const g = res.headers.get('x-guard-duration-ms');
      if (g) guardMs.push(Number(g));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { latencies, guardMs, errors };
}

async function main(): Promise<void> {
  const engine = await startDevEngine();
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-bench-'));
  const noGuards = path.join(dir, 'no-guards.yaml');
  writeFileSync(noGuards, 'id: no-guards\n');
  const bundled = path.join(packageRoot(), 'policies', 'default.yaml');
  const fixture = path.join(packageRoot(), 'test', 'fixtures', 'policies', 'fixture.yaml');
  const bundledReady = existsSync(path.join(packageRoot(), 'guards', 'models', 'prompt-guard-small', 'model.onnx'));
  const withGuards = bundledReady ? bundled : fixture;

  const start = (policy: string) => startGateway({ config: GatewayConfig.parse({ port: 0, policy, engine: { url: engine.baseUrl } }), recorder: noopRecorder });
  const plain = await start(noGuards);
  const guarded = await start(withGuards);

  // Warm up every path (JIT, ONNX sessions, keep-alive pools).
  for (const url of [engine.baseUrl, `${plain.url}/v1`, `${guarded.url}/v1`]) await run(url);

  const direct = await run(engine.baseUrl);
  const off = await run(`${plain.url}/v1`);
  const on = await run(`${guarded.url}/v1`);
  const d = summarize(direct.latencies);
  const rows = [
    ['dev engine directly', direct],
    ['gateway, guards off', off],
    [`gateway, guards on (${bundledReady ? 'bundled models' : 'fixture models'})`, on],
  ] as const;
  console.log(`\nnpm run bench: ${REQUESTS} chat requests, concurrency ${CONCURRENCY}, ${machine()}\n`);
  console.log(
    table(
      ['path', 'p50 ms', 'p99 ms', 'p50 / direct', 'guard p50 ms', 'errors'],
      rows.map(([name, r]) => {
        const s = summarize(r.latencies);
        const g = r.guardMs.length ? summarize(r.guardMs).p50 : 0;
        return [name, s.p50, s.p99, `${(s.p50 / d.p50).toFixed(2)}x`, g, r.errors];
      }),
    ),
  );

  await recordingOverhead(engine.baseUrl, withGuards, guarded.url, dir);
  await plain.shutdown(1000);
  await guarded.shutdown(1000);
  await engine.close();
}

/** Telemetry + audit on vs off, same guards, same engine; rounds alternate to cancel drift. */
async function recordingOverhead(engineUrl: string, policy: string, offUrl: string, dir: string): Promise<void> {
  const receiver = await startOtlpReceiver({ decode: false });
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  process.env.OTEL_METRIC_EXPORT_INTERVAL ??= '5000';
  const recorded = (fsync: 'always' | 'interval', name: string) =>
    startGateway({ config: GatewayConfig.parse({ port: 0, policy, engine: { url: engineUrl }, audit: { dir: path.join(dir, name), fsync } }) });
  const always = await recorded('always', 'audit-always');
  const interval = await recorded('interval', 'audit-interval');
  const paths = [
    ['guards on, telemetry + audit off', `${offUrl}/v1`],
    ['guards on, telemetry + audit on (fsync always)', `${always.url}/v1`],
    ['guards on, telemetry + audit on (fsync 1 s)', `${interval.url}/v1`],
  ] as const;
  for (const [, url] of paths) await run(url);
  const results = paths.map(() => ({ latencies: [] as number[], errors: 0 }));
  const ROUNDS = 3;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < paths.length; i++) {
      const r = await run(paths[i][1]);
      results[i].latencies.push(...r.latencies);
      results[i].errors += r.errors;
    }
  }
  const base = summarize(results[0].latencies);
  console.log(`
recording overhead: ${ROUNDS} interleaved rounds of ${REQUESTS} requests per path; OTLP http/protobuf to a loopback receiver
`);
  console.log(
    table(
      ['path', 'p50 ms', 'p99 ms', 'mean ms', 'p50 / off', 'p99 / off', 'errors'],
      paths.map(([name], i) => {
        const s = summarize(results[i].latencies);
        return [name, s.p50, s.p99, s.mean, `${(s.p50 / base.p50).toFixed(2)}x`, `${(s.p99 / base.p99).toFixed(2)}x`, results[i].errors];
      }),
    ),
  );
  console.log(`
OTLP payloads received: ${receiver.bodies.length} (${(receiver.bodies.reduce((n, b) => n + b.bytes.length, 0) / 1024).toFixed(0)} KiB)`);
  await always.shutdown(1000);
  await interval.shutdown(1000);
  await shutdownTelemetry(2000);
  await receiver.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

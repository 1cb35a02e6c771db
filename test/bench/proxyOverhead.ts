import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine } from '../../engine/devEngine/server';
import { GatewayConfig } from '../../gateway/config';
import { packageRoot } from '../../gateway/paths';
import { startGateway } from '../../gateway/server';
import { machine, summarize, table } from './stats';

/**
 * npm run bench: the same chat requests straight to the dev engine, through the gateway with no
 * guards, and through the gateway with the guards on, side by side in one run.
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

  const start = (policy: string) => startGateway({ config: GatewayConfig.parse({ port: 0, policy, engine: { url: engine.baseUrl } }) });
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
  await plain.shutdown(1000);
  await guarded.shutdown(1000);
  await engine.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

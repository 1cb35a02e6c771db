import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChild, type BenchChild } from './overhead/childProcess';
import { cpuMicros } from './overhead/cpuTime';
import { sequential, throughput } from './overhead/loadClient';
import { machine, summarize, table } from './stats';

/**
 * npm run bench: what the gateway adds to a request, measured from outside. The upstream (a
 * minimal OpenAI-compatible server), a bare Node.js proxy and the gateway each run in a process of
 * their own; this process is the client. Per target: sequential latency on one connection
 * (p50/p90/p99 in microseconds) and throughput at 1, 8 and 32 connections, every request with a
 * new prompt (no verdict cache answers), in interleaved rounds so a busy machine's drift falls on
 * every target alike. Figures are reported as ratios to the bare proxy, which is what to compare
 * across machines and runs.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_REQUESTS (sequential requests per round, 400),
 * BENCH_SECONDS (per throughput cell, 3), BENCH_CONNECTIONS ("1,8,32"), BENCH_TARGETS (names to
 * run, comma-separated; default all), BENCH_AUDIT_DIR (where the gateways' audit logs go: the
 * system temp dir by default), BENCH_JSON (also write the figures there), BENCH_COMPARE (a
 * second checkout, built, whose gateway runs beside this one: before and after in one run).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,8,32').split(',').map(Number);
const ROOT = path.resolve(__dirname, '..', '..', '..');
const SOURCE_ROOT = existsSync(path.join(ROOT, 'package.json')) ? ROOT : path.resolve(__dirname, '..', '..');

interface Target {
  name: string;
  /** Short name for BENCH_TARGETS. */
  key: string;
  start(upstream: string): Promise<BenchChild | undefined>;
}

interface Result {
  micros: number[];
  blocked: number;
  errors: number;
  /** Per connection count: completed (200) requests, guard blocks, errors and seconds, summed over rounds. */
  throughput: Map<number, { completed: number; blocked: number; seconds: number; errors: number; cpuMicros?: number }>;
}

function gatewayTarget(key: string, name: string, options: { policy: string; auditDir: string; fsync: 'always' | 'interval'; telemetry: boolean; root?: string }): Target {
  return {
    key,
    name,
    async start(upstream) {
      mkdirSync(options.auditDir, { recursive: true });
      const config = {
        port: 0,
        policy: options.policy,
        engine: { url: upstream },
        audit: { dir: options.auditDir, fsync: options.fsync },
        telemetry: { enabled: options.telemetry },
      };
      const file = path.join(options.auditDir, 'bench-config.json');
      writeFileSync(file, JSON.stringify(config));
      // No collector: nothing is pushed (metrics stay on GET /metrics), as a gateway runs by default.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('SAFETY_')));
      return startChild(key, [path.join(options.root ?? SOURCE_ROOT, 'bin', 'safety-gateway.js'), 'serve', '--config', file], { env: { ...env, SAFETY_CONTENT_SALT: 'bench' } });
    },
  };
}

function targets(scratch: string, ramScratch: string | undefined): Target[] {
  const noGuards = path.join(scratch, 'no-guards.yaml');
  writeFileSync(noGuards, 'id: no-guards\n');
  const bundledReady = existsSync(path.join(SOURCE_ROOT, 'guards', 'models', 'prompt-guard-small', 'model.onnx'));
  const guarded = bundledReady ? path.join(SOURCE_ROOT, 'policies', 'default.yaml') : path.join(SOURCE_ROOT, 'test', 'fixtures', 'policies', 'fixture.yaml');
  const auditRoot = process.env.BENCH_AUDIT_DIR ?? scratch;
  const all: Target[] = [
    { key: 'direct', name: 'upstream directly', start: async () => undefined },
    { key: 'bare', name: 'bare Node.js proxy', start: (upstream) => startChild('bare', [path.join(__dirname, 'overhead', 'bareProxy.js'), upstream]) },
    gatewayTarget('off', 'gateway, guards off (audit fsync always)', { policy: noGuards, auditDir: path.join(auditRoot, 'audit-off'), fsync: 'always', telemetry: true }),
  ];
  // The same, with the audit log on a RAM disk: what fsync costs on this disk, and what the gateway's own code costs.
  if (ramScratch) {
    all.push(gatewayTarget('off-tmpfs', 'gateway, guards off (audit fsync always, log on tmpfs)', { policy: noGuards, auditDir: path.join(ramScratch, 'audit-off'), fsync: 'always', telemetry: true }));
  }
  all.push(
    gatewayTarget('off-lean', 'gateway, guards off (telemetry off, audit fsync 1 s)', { policy: noGuards, auditDir: path.join(auditRoot, 'audit-lean'), fsync: 'interval', telemetry: false }),
    gatewayTarget('on', `gateway, guards on (${bundledReady ? 'bundled models' : 'fixture models'}, audit fsync always)`, { policy: guarded, auditDir: path.join(auditRoot, 'audit-on'), fsync: 'always', telemetry: true }),
  );
  // Another build side by side (before / after a change): BENCH_COMPARE=/path/to/its/checkout, built.
  const other = process.env.BENCH_COMPARE;
  if (other) {
    all.push(gatewayTarget('compare', `gateway at ${other}, guards off (audit fsync always)`, { policy: noGuards, auditDir: path.join(auditRoot, 'audit-compare'), fsync: 'always', telemetry: true, root: other }));
    if (ramScratch) {
      all.push(gatewayTarget('compare-tmpfs', `gateway at ${other}, guards off (audit fsync always, log on tmpfs)`, { policy: noGuards, auditDir: path.join(ramScratch, 'audit-compare'), fsync: 'always', telemetry: true, root: other }));
    }
  }
  const wanted = process.env.BENCH_TARGETS?.split(',').map((s) => s.trim());
  return wanted ? all.filter((t) => wanted.includes(t.key) || t.key === 'direct' || t.key === 'bare') : all;
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sg-bench-'));
  // A RAM disk, where there is one, for the variants that take fsync's cost out of the picture.
  const ramScratch = existsSync('/dev/shm') && !process.env.BENCH_AUDIT_DIR ? mkdtempSync('/dev/shm/sg-bench-') : undefined;
  const started: BenchChild[] = [];
  const startedAt = new Date();
  const loadBefore = load();
  try {
    const upstream = await startChild('upstream', [path.join(__dirname, 'overhead', 'upstream.js')]);
    started.push(upstream);
    const list = targets(scratch, ramScratch);
    const servers = new Map<string, { origin: string; pid?: number }>();
    for (const t of list) {
      const child = await t.start(`${upstream.url}/v1`);
      if (child) started.push(child);
      servers.set(t.key, { origin: child?.url ?? upstream.url, pid: child?.process.pid });
    }
    const results = new Map<string, Result>(list.map((t) => [t.key, { micros: [], blocked: 0, errors: 0, throughput: new Map() }]));

    // Warm-up: JIT, ONNX sessions, keep-alive pools, the audit files.
    for (const t of list) {
      const { origin } = servers.get(t.key)!;
      await sequential(origin, 100);
      await throughput(origin, Math.max(...CONNECTIONS), 1000);
    }

    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts with another target, so none always runs first (or right after a busy one).
      const order = list.map((_, i) => list[(i + round) % list.length]);
      for (const t of order) {
        const { origin, pid } = servers.get(t.key)!;
        const result = results.get(t.key)!;
        const seq = await sequential(origin, REQUESTS);
        result.micros.push(...seq.micros);
        result.blocked += seq.blocked;
        result.errors += seq.errors;
        for (const connections of CONNECTIONS) {
          const cpuBefore = cpuMicros(pid);
          const cell = await throughput(origin, connections, SECONDS * 1000);
          const cpuAfter = cpuMicros(pid);
          const sum = result.throughput.get(connections) ?? { completed: 0, blocked: 0, seconds: 0, errors: 0, cpuMicros: undefined };
          sum.completed += cell.completed;
          sum.seconds += cell.seconds;
          sum.blocked += cell.blocked;
          sum.errors += cell.errors;
          if (cpuBefore !== undefined && cpuAfter !== undefined) sum.cpuMicros = (sum.cpuMicros ?? 0) + (cpuAfter - cpuBefore);
          result.throughput.set(connections, sum);
        }
      }
    }
    report(list, results, { startedAt, loadBefore });
  } finally {
    for (const child of started.reverse()) await child.stop().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    if (ramScratch) rmSync(ramScratch, { recursive: true, force: true });
  }
}

function report(list: Target[], results: Map<string, Result>, run: { startedAt: Date; loadBefore: string }): void {
  const stats = new Map(list.map((t) => [t.key, summarize(results.get(t.key)!.micros)]));
  const direct = stats.get('direct')!;
  const bare = stats.get('bare')!;
  const bareAdded = bare.p50 - direct.p50;
  const rate = (key: string, c: number) => {
    const cell = results.get(key)!.throughput.get(c)!;
    return cell.completed / cell.seconds;
  };
  console.log(`\nnpm run bench: ${run.startedAt.toISOString()} to ${new Date().toISOString()}; ${machine()}`);
  console.log(`load average (1 / 5 / 15 min) at the start ${run.loadBefore}, at the end ${load()}`);
  console.log(`${ROUNDS} interleaved rounds; per round and target ${REQUESTS} sequential requests and ${SECONDS} s per connection count; a new prompt every request\n`);
  console.log('Sequential latency, one connection (microseconds; added = p50 minus the upstream\'s own p50)\n');
  console.log(
    table(
      ['target', 'p50 µs', 'p90 µs', 'p99 µs', 'added p50 µs', 'added / bare proxy\'s', 'blocked / errors'],
      list.map((t) => {
        const s = stats.get(t.key)!;
        const added = s.p50 - direct.p50;
        return [t.name, s.p50.toFixed(0), s.p90.toFixed(0), s.p99.toFixed(0), t.key === 'direct' ? '-' : added.toFixed(0), t.key === 'direct' ? '-' : `${(added / bareAdded).toFixed(2)}x`, `${results.get(t.key)!.blocked} / ${results.get(t.key)!.errors}`];
      }),
    ),
  );
  console.log('\nThroughput (requests per second; ratio to the bare proxy at the same connection count; CPU µs per request of the proxy process)\n');
  console.log(
    table(
      ['target', ...CONNECTIONS.map((c) => `${c} conn req/s`), ...CONNECTIONS.map((c) => `${c} / bare`), `CPU µs/req at ${Math.max(...CONNECTIONS)}`, 'blocked / errors'],
      list.map((t) => {
        const r = results.get(t.key)!;
        const top = r.throughput.get(Math.max(...CONNECTIONS))!;
        const errors = [...r.throughput.values()].reduce((n, c) => n + c.errors, 0);
        const blocked = [...r.throughput.values()].reduce((n, c) => n + c.blocked, 0);
        return [
          t.name,
          ...CONNECTIONS.map((c) => rate(t.key, c).toFixed(0)),
          ...CONNECTIONS.map((c) => `${(rate(t.key, c) / rate('bare', c)).toFixed(2)}x`),
          top.cpuMicros === undefined ? '-' : (top.cpuMicros / Math.max(1, top.completed)).toFixed(0),
          `${blocked} / ${errors}`,
        ];
      }),
    ),
  );
  const off = stats.get('off');
  if (off) {
    const latency = (off.p50 - direct.p50) / bareAdded;
    const top = Math.max(...CONNECTIONS);
    const tput = rate('off', top) / rate('bare', top);
    console.log(`\nissue 18 targets, guards off, audit fsync always: added p50 ${latency.toFixed(2)}x the bare proxy's (target <= 1.5x: ${latency <= 1.5 ? 'met' : 'NOT met'}); throughput at ${top} connections ${tput.toFixed(2)}x (target >= 0.3x: ${tput >= 0.3 ? 'met' : 'NOT met'})`);
  }
  if (process.env.BENCH_JSON) {
    const out = list.map((t) => ({ target: t.key, name: t.name, latency: stats.get(t.key), throughput: Object.fromEntries([...results.get(t.key)!.throughput].map(([c, v]) => [c, { ...v, perSecond: v.completed / v.seconds }])) }));
    writeFileSync(process.env.BENCH_JSON, JSON.stringify({ startedAt: run.startedAt, loadBefore: run.loadBefore, loadAfter: load(), machine: machine(), results: out }, null, 2));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { BENCH_KEY } from './loadServer';
import { machine, summarize, table } from './stats';

/**
 * npm run bench:load: N concurrent clients (half streaming) for a fixed time against the gateway
 * (guards on, API key, rate limits, real audit log) in front of the dev engine, in a separate
 * process. Reports throughput, latency, guard blocks (a 400 content_policy_violation: a verdict,
 * not an error), errors, the gateway's memory growth, and whether the audit log holds one record
 * per answered request. Exits 1 on any error or a record mismatch.
 *
 * LOAD_CLIENTS (32), LOAD_DURATION_S (20), LOAD_WARMUP_S (3), LOAD_TOKEN_DELAY_MS (2, dev engine).
 * LOAD_VARIED=1: every request a different prompt (no guard verdict can come from the cache, so
 * this measures the models); otherwise four prompts repeat, as a cache-friendly workload.
 * LOAD_PROMPT_WORDS (varied prompts only): words of context per prompt (default 12-31; a few
 * hundred make each request a document, where the models' share of the work dominates).
 * LOAD_COMPARE_WORKERS=1,2: the same run once per ONNX worker pool size, each in a fresh gateway
 * process, and their throughput side by side (LOAD_WORKERS sets one size for a single run). An
 * entry `1@/other/build/dist/test/bench/loadServer.js` runs another build's server instead (the
 * code before a change, for a baseline in the same run).
 */
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 32);
const DURATION_S = Number(process.env.LOAD_DURATION_S ?? 20);
const WARMUP_S = Number(process.env.LOAD_WARMUP_S ?? 3);
const VARIED = process.env.LOAD_VARIED === '1';
const PROMPT_WORDS = Number(process.env.LOAD_PROMPT_WORDS ?? 0);
const FILLER = 'garden river morning ticket museum coffee bridge weather market family evening north quiet route history'.split(' ');
const PROMPTS = [
  'Summarize the plot of a heist movie in two sentences, keeping it light.',
  'Write a haiku about the sea at dawn.',
  'Explain what a hash chain is to a new engineer, briefly.',
  'List three tips for writing clear error messages.',
];

interface Sample {
  heapUsed: number;
  rss: number;
  attempts: number;
  written: number;
  engineCompleted: number;
  /** Process CPU time (all threads) and event-loop busy time so far (ms); absent from older servers. */
  cpuMs?: number;
  loopBusyMs?: number;
}

interface ClientStats {
  latencies: { stream: number[]; whole: number[] };
  ttfb: number[];
  errors: Map<string, number>;
  /** Answered 400 content_policy_violation (a guard blocked the generated prompt). */
  blocked: number;
  done: number;
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.send({ type });
  });
}

async function oneRequest(url: string, stream: boolean, i: number, stats: ClientStats): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` },
      body: JSON.stringify({ model: 'dev', stream, max_tokens: 64, messages: [{ role: 'user', content: prompt(i) }] }),
    });
    if (stream) stats.ttfb.push(performance.now() - t0);
    const text = await res.text();
    const ok = res.status === 200 && (!stream || text.trimEnd().endsWith('data: [DONE]'));
    // A guard's block is a verdict, not a fault: counted and reported apart from errors.
    if (res.status === 400 && text.includes('"content_policy_violation"')) stats.blocked++;
    else if (!ok) stats.errors.set(`HTTP ${res.status}`, (stats.errors.get(`HTTP ${res.status}`) ?? 0) + 1);
    else (stream ? stats.latencies.stream : stats.latencies.whole).push(performance.now() - t0);
  } catch (err) {
    const key = (err as Error).message.slice(0, 60);
    stats.errors.set(key, (stats.errors.get(key) ?? 0) + 1);
  }
  stats.done++;
}

let sent = 0;
/** The i-th client's prompt: one of four, or (LOAD_VARIED=1) one never sent before, of 20-40 words. */
function prompt(i: number): string {
  const base = PROMPTS[i % PROMPTS.length]!;
  if (!VARIED) return base;
  let state = (++sent * 2654435761) >>> 0;
  const words = Array.from({ length: PROMPT_WORDS || 12 + (sent % 20) }, () => FILLER[(state = (Math.imul(state, 1103515245) + 12345) >>> 0) % FILLER.length]);
  return `${base} Context ${sent}: ${words.join(' ')}.`;
}

/** Every client sends one request after another until the deadline; odd clients stream. */
async function drive(url: string, seconds: number): Promise<ClientStats> {
  const stats: ClientStats = { latencies: { stream: [], whole: [] }, ttfb: [], errors: new Map(), blocked: 0, done: 0 };
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = 0; performance.now() < deadline; i++) await oneRequest(url, client % 2 === 1, client + i, stats);
    }),
  );
  return stats;
}

interface RunSummary {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** Per request: CPU of the gateway process (all its threads, the dev engine included) and event-loop busy time, ms. */
  cpuPerRequest: number;
  loopPerRequest: number;
  /** What a dedicated machine with this many cores could serve: the event loop is one core, everything shares them all. */
  capacity: number;
}

async function main(): Promise<void> {
  const compare = process.env.LOAD_COMPARE_WORKERS?.split(',');
  if (!compare) {
    const run = await runOnce(process.env.LOAD_WORKERS);
    if (run.errors > 0) process.exit(1);
    return;
  }
  const rows: (string | number)[][] = [];
  const runs: RunSummary[] = [];
  for (const entry of compare) {
    const [workers, server] = entry.split('@');
    const run = await runOnce(workers, server);
    runs.push(run);
    rows.push([
      server ? `${workers} (${server})` : workers!,
      String(run.requests),
      run.perSecond,
      run.p50,
      run.p99,
      String(run.errors),
      (run.perSecond / runs[0]!.perSecond).toFixed(2),
      run.cpuPerRequest,
      run.loopPerRequest,
      run.capacity,
      (run.capacity / runs[0]!.capacity).toFixed(2),
    ]);
  }
  console.log(`\nONNX worker pool sizes compared (${CLIENTS} clients, ${VARIED ? `every prompt different${PROMPT_WORDS ? `, ${PROMPT_WORDS} words each` : ''}` : 'four prompts repeating'}), ${machine()}\n`);
  console.log(table(['workers', 'requests', 'throughput req/s', 'p50 ms', 'p99 ms', 'errors', 'throughput / first', 'CPU ms / req', 'event loop ms / req', `capacity on ${os.availableParallelism()} cores, req/s`, 'capacity / first'], rows));
  console.log(`\ncapacity = min(1000 / event-loop ms per request, ${os.availableParallelism()} x 1000 / CPU ms per request): what a machine with nothing else running could serve; wall-clock throughput on a shared machine moves with its other load.`);
  if (runs.some((r) => r.errors > 0)) process.exit(1);
}

async function runOnce(workers: string | undefined, server = path.join(__dirname, 'loadServer.js')): Promise<RunSummary> {
  const child = fork(server, [], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...(workers ? { LOAD_WORKERS: workers } : {}) },
  });
  const ready = await new Promise<{ url: string; policy: string; auditDir: string }>((resolve, reject) => {
    child.once('message', (m: { type: string; url: string; policy: string; auditDir: string }) => (m.type === 'ready' ? resolve(m) : reject(new Error('unexpected message'))));
    child.once('exit', (code) => reject(new Error(`load server exited with ${code}`)));
  });

  const warm = await drive(ready.url, WARMUP_S);
  const before = await ask<Sample>(child, 'sample');
  const started = performance.now();
  const run = await drive(ready.url, DURATION_S);
  const elapsed = (performance.now() - started) / 1000;
  const after = await ask<Sample>(child, 'sample');

  const totalRequests = warm.done + run.done;
  const errors = [...warm.errors.values(), ...run.errors.values()].reduce((a, b) => a + b, 0);
  const recordsThisRun = after.written - before.written;
  const all = [...run.latencies.stream, ...run.latencies.whole];
  const s = summarize(all);
  const st = summarize(run.latencies.stream);
  const wh = summarize(run.latencies.whole);
  const tt = summarize(run.ttfb);
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

  console.log(`\nnpm run bench:load: ${CLIENTS} clients (half streaming), ${DURATION_S} s after ${WARMUP_S} s warm-up, ${VARIED ? 'every prompt different, ' : ''}${workers ? `${workers} ONNX worker(s), ` : ''}${machine()}`);
  console.log(`policy ${ready.policy}; API key + rate limits on; audit log fsync always (${ready.auditDir})\n`);
  console.log(
    table(
      ['requests', 'throughput req/s', 'p50 ms', 'p99 ms', 'stream p50/p99 ms', 'stream TTFB p50 ms', 'whole p50/p99 ms', 'blocked', 'errors'],
      [[String(run.done), run.done / elapsed, s.p50, s.p99, `${st.p50.toFixed(1)} / ${st.p99.toFixed(1)}`, tt.p50, `${wh.p50.toFixed(1)} / ${wh.p99.toFixed(1)}`, String(warm.blocked + run.blocked), String(errors)]],
    ),
  );
  console.log(
    `\ngateway memory after GC: heap ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} (${after.heapUsed >= before.heapUsed ? '+' : ''}${mb(after.heapUsed - before.heapUsed)}), rss ${mb(before.rss)} -> ${mb(after.rss)}`,
  );
  console.log(`audit records: ${after.written} written for ${totalRequests} requests (${recordsThisRun} during the measured run for ${run.done}); recorder attempts ${after.attempts}`);
  for (const [error, count] of [...warm.errors, ...run.errors]) console.log(`error: ${error} x${count}`);

  child.send({ type: 'stop' });
  await new Promise((r) => child.once('exit', r));
  const recordsMatch = after.written === totalRequests && after.attempts === totalRequests;
  if (errors > 0 || !recordsMatch) console.error(`\nFAILED: ${errors} errors; audit records ${recordsMatch ? 'match' : 'DO NOT match'} requests`);
  const cpuPerRequest = ((after.cpuMs ?? 0) - (before.cpuMs ?? 0)) / Math.max(1, run.done);
  const loopPerRequest = ((after.loopBusyMs ?? 0) - (before.loopBusyMs ?? 0)) / Math.max(1, run.done);
  const capacity = Math.min(1000 / loopPerRequest, (os.availableParallelism() * 1000) / cpuPerRequest);
  console.log(`per request: ${cpuPerRequest.toFixed(2)} ms CPU (gateway process, all threads), ${loopPerRequest.toFixed(2)} ms of event loop; capacity on ${os.availableParallelism()} idle cores ~${capacity.toFixed(0)} req/s`);
  return { requests: run.done, perSecond: run.done / elapsed, p50: s.p50, p99: s.p99, errors: errors + (recordsMatch ? 0 : 1), cpuPerRequest, loopPerRequest, capacity };
}

// An explicit exit: keep-alive sockets to the gateway processes that ended can hold the loop open.
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

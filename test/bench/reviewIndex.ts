/**
 * `npm run bench:review`: the review index on a generated log of BENCH_RECORDS records (default one
 * million): index build time, filtered queries, an incremental refresh, and a restart (every
 * indexed prefix hashed again). The log is written to a temporary directory and removed after.
 * Never a timed assertion: it prints what it measured.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toAuditEntry } from '../../gateway/audit/auditEntry';
import { auditFileName, listAuditFiles } from '../../gateway/audit/auditFiles';
import { GENESIS, seal } from '../../gateway/audit/hashChain';
import { toRejectionEntry } from '../../gateway/audit/rejectionEntry';
import { AuditIndex } from '../../gateway/review/auditIndex';
import { parseReviewQuery } from '../../gateway/review/reviewFilter';
import { chartResults, listResults, recordDetail } from '../../gateway/review/reviewQueries';
import { captureContent } from '../../gateway/telemetry/contentCapture';
import type { RequestRecord } from '../../gateway/record/requestRecord';
import { decide } from '../../policies/evaluate';
import type { Rule } from '../../policies/schema';
import type { Verdict } from '../../guards/types';

const N = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const FILE_BYTES = 64 * 1024 * 1024;
const START = Date.UTC(2026, 10, 1);
const SPAN = 30 * 86_400_000;
const CATEGORIES = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10', 'S11', 'S12', 'S13', 'S14'];

function rule(id: string, guard: string): Rule {
  return { id, guard, threshold: 0.5, action: 'block', mode: 'enforce', on_error: 'block' } as Rule;
}
function verdict(guard: string, score: number, categories: string[] = []): Verdict {
  return { guard, model: `${guard}-small`, label: score >= 0.5 ? 'unsafe' : 'safe', score, categories, latencyMs: 2 + (score * 10) % 7, segmentsScanned: 1 };
}

/** One realistic decision: two input guards, sometimes an output guard, 8% blocked. */
function record(i: number): RequestRecord {
  const blocked = i % 13 === 0;
  const category = CATEGORIES[i % CATEGORIES.length];
  const policy = { id: 'default', version: i < N / 2 ? '3f2a9c0d1e4b' : '7c1d2e3f4a5b' };
  const pairs: [Rule, Verdict][] = [
    [rule('jailbreak', 'prompt_guard'), verdict('prompt_guard', (i % 97) / 1000)],
    [rule('unsafe-prompt', 'llama_guard'), verdict('llama_guard', blocked ? 0.91 : (i % 89) / 1000, blocked ? [category] : [])],
  ];
  const decision = decide('input', pairs.map(([r]) => r), new Map(pairs.map(([r, v]) => [r.id, v])), policy);
  const app = `app-${i % 20}`;
  return {
    requestId: `req_${i.toString(16).padStart(12, '0')}`,
    receivedAt: new Date(START + Math.floor((i / N) * SPAN)).toISOString(),
    app,
    keyId: `key_${app}`,
    traceId: i % 50 === 0 ? i.toString(16).padStart(32, '0') : undefined,
    durationMs: 30 + (i % 40),
    route: '/v1/chat/completions',
    model: 'llama-3.1-405b',
    stream: i % 2 === 0,
    policy,
    input: { decision, verdicts: pairs.map(([r, v]) => ({ ruleId: r.id, verdict: v })), durationMs: 4 + (i % 5) },
    outputs: [],
    action: decision.action,
    status: blocked ? 400 : 200,
    engine: blocked ? undefined : { durationMs: 200 + (i % 300), finishReasons: ['stop'], usage: { prompt_tokens: 20, completion_tokens: 80 } },
    content: { input: [`prompt ${i}`], output: [] },
  };
}

function writeLog(dir: string, count: number, from = 1, prevHash = GENESIS): { hash: string } {
  let prev = prevHash;
  let fd = -1;
  let size = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pending.length) writeSync(fd, pending.join(''));
    size += pendingBytes;
    pending = [];
    pendingBytes = 0;
  };
  for (let seq = from; seq < from + count; seq++) {
    if (fd < 0 || size + pendingBytes >= FILE_BYTES) {
      if (fd >= 0) {
        flush();
        closeSync(fd);
      }
      fd = openSync(path.join(dir, auditFileName(seq, new Date(START + seq * 1000))), 'a');
      size = 0;
    }
    const i = seq - 1;
    const entry =
      i % 33 === 5
        ? toRejectionEntry({ kind: 'rate_limited', requestId: `req_rl_${i}`, receivedAt: new Date(START + Math.floor((i / N) * SPAN)).toISOString(), app: `app-${i % 20}`, keyId: `key_app-${i % 20}`, method: 'POST', route: '/v1/chat/completions', status: 429, reason: 'requests_per_minute', limit: { kind: 'requests', limit: 60, requested: 1 } })
        : (() => {
            const r = record(i);
            return toAuditEntry(r, captureContent(r.content, 'none', 'bench-salt'), 'bench-salt');
          })();
    const sealed = seal(entry, seq, prev, new Date(START + seq * 1000).toISOString());
    prev = sealed.record.hash;
    pending.push(sealed.line);
    pendingBytes += Buffer.byteLength(sealed.line);
    if (pending.length >= 2000) flush();
  }
  flush();
  closeSync(fd);
  return { hash: prev };
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-bench-review-'));
  try {
    process.stderr.write(`writing ${N} records to ${dir}...\n`);
    const written = time(() => writeLog(dir, N));
    const bytes = listAuditFiles(dir).reduce((s, f) => s + statSync(f).size, 0);
    const rows: [string, string][] = [['log', `${N} records, ${(bytes / 1e6).toFixed(0)} MB in ${listAuditFiles(dir).length} files (written in ${(written.ms / 1000).toFixed(1)} s)`]];

    const build = await timeAsync(async () => {
      const index = new AuditIndex({ auditDir: dir, publicKeys: new Map(), sliceMs: 200 });
      await index.refresh();
      return index;
    });
    const index = build.value;
    if (index.status().error) throw new Error(index.status().error);
    rows.push(['index build (from nothing)', `${(build.ms / 1000).toFixed(1)} s, ${Math.round(N / (build.ms / 1000))} records/s, index ${(statSync(index.file).size / 1e6).toFixed(0)} MB`]);

    const now = new Date(START + SPAN);
    const q = (query: Record<string, string>) => {
      const parsed = parseReviewQuery(query, now);
      if (!parsed.ok) throw new Error(parsed.errors.join('; '));
      return parsed.query;
    };
    const median = (fn: () => unknown) => {
      const runs = [0, 1, 2, 3, 4].map(() => time(fn).ms).sort((a, b) => a - b);
      return runs[2];
    };
    const cases: [string, Record<string, string>][] = [
      ['list, no filter (newest 50 + total count)', {}],
      ['list, app + category S2 + action block + one week', { app: 'app-3', category: 'S2', action: 'block', since: '2026-11-08', until: '2026-11-15' }],
      ['list, app + policy version', { app: 'app-7', policy_version: '7c1d2e3f4a5b' }],
      ['list, request id', { request_id: 'req_00000007a120' }],
      ['list, trace id', { trace_id: (500_000).toString(16).padStart(32, '0') }],
      ['list, guard + label + shadow-or-enforced', { guard: 'llama_guard', label: 'unsafe', mode: 'enforce' }],
    ];
    for (const [name, query] of cases) {
      const parsed = q(query);
      const { total } = listResults(index, parsed);
      rows.push([name, `${median(() => listResults(index, parsed)).toFixed(1)} ms (${total} matches)`]);
    }
    rows.push(['charts, one app over one week', `${median(() => chartResults(index, q({ app: 'app-3', since: '2026-11-08', until: '2026-11-15' }).filter)).toFixed(0)} ms`]);
    rows.push(['charts, whole log', `${time(() => chartResults(index, q({}).filter)).ms.toFixed(0)} ms (one run)`]);
    const first = listAuditFiles(dir)[0];
    rows.push(['detail of one record', `${median(() => recordDetail(index, path.basename(first), 1000)).toFixed(2)} ms`]);

    const appended = writeLog(dir, 1000, N + 1, (index.db.prepare('SELECT hash FROM records ORDER BY id DESC LIMIT 1').get() as { hash: string }).hash);
    void appended;
    rows.push(['refresh after 1,000 appended records', `${(await timeAsync(() => index.refresh())).ms.toFixed(0)} ms`]);
    index.close();
    const reopen = await timeAsync(async () => {
      const again = new AuditIndex({ auditDir: dir, publicKeys: new Map(), sliceMs: 200 });
      await again.refresh();
      return again;
    });
    rows.push(['restart: reopen, re-check every indexed record', `${(reopen.ms / 1000).toFixed(1)} s`]);
    const chain = reopen.value.chainStatus();
    rows.push(['chain after all that', `${chain.problems} problem(s) in ${chain.lines} lines`]);
    reopen.value.close();

    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\nreview index, ${N} records (node ${process.version}, ${new Date().toISOString()})\n\n`);
    process.stdout.write(`| what | result |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`).join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:review failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});

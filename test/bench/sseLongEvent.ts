/**
 * `npm run bench:sse`: the engine stream parser's CPU time for one long event sent in 4 KiB pieces
 * (an engine, broken or hostile, that never ends an event), at 1, 4 and 16 MiB (the default
 * `engine.max_answer_bytes`). Linear cost gives a per-MiB time that stays flat; the parser once
 * rescanned all buffered text on every piece, about 4 s of CPU at 4 MiB.
 */
import { SseParser } from '../../gateway/streaming/sseParser';
import { machine, table } from './stats';

const PIECE = 4096;

function cpuMs(mib: number): number {
  const bytes = Buffer.from(`data: ${'x'.repeat(mib * 1024 * 1024)}\n\n`);
  const parser = new SseParser();
  const start = process.cpuUsage();
  let events = 0;
  for (let at = 0; at < bytes.length; at += PIECE) events += parser.push(bytes.subarray(at, at + PIECE)).length;
  events += parser.end().length;
  const used = process.cpuUsage(start);
  if (events !== 1) throw new Error(`expected one event, parsed ${events}`);
  return (used.user + used.system) / 1000;
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const sizes = [1, 4, 16];
const best = sizes.map((mib) => Math.min(...Array.from({ length: rounds }, () => cpuMs(mib))));
console.log(`# SSE parser, one long event in ${PIECE}-byte pieces (best of ${rounds}); ${machine()}\n`);
console.log(table(['event MiB', 'CPU ms', 'ms per MiB', 'per MiB / 1 MiB'], sizes.map((mib, i) => [mib, best[i], best[i] / mib, best[i] / mib / best[0]])));

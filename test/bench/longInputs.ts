import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createContentEncoderGuard } from '../../guards/contentEncoder';
import { ortHost } from '../../guards/onnx/ortHost';
import { createPromptGuard } from '../../guards/promptGuard';
import { TextTokenizer } from '../../guards/tokenizer/textTokenizer';
import { readModelDirectory } from '../../guards/modelDirectory';
import type { GuardRequest, Verdict } from '../../guards/types';
import { table } from './stats';

/**
 * bench:guards (e): whole long inputs, 8K / 32K / 128K tokens, through both bundled guards at
 * once (the way a request meets them: Prompt Guard on a document, the content guard on the turn),
 * with the pool of ONNX workers against one worker, and the same model through transformers.js on
 * the same amount of text.
 *
 * transformers.js has no whole-input scan (it truncates to 512 tokens), so it is given what ours
 * scores: half-overlapping chunks of about 510 tokens (words packed by our tokenizer's count),
 * 16 per pipeline call, on the main thread. Above BENCH_THEIRS_MAX_TOKENS (default 32768) its
 * time is extrapolated from its rate at the largest size it ran, and marked so.
 */

export interface LongInputModels {
  prompt: string;
  content: string;
}

export interface TheirPipeline {
  (texts: string[], options?: Record<string, unknown>): Promise<unknown>;
}

export interface LongInputDeps {
  /** The same model directory through transformers.js, or why not. */
  loadTheirs(dir: string, kind: 'prompt' | 'content'): Promise<{ pipe?: TheirPipeline; note: string; dispose(): Promise<void> }>;
}

const SIZES = (process.env.BENCH_LONG_SIZES ?? '8192,32768,131072').split(',').map(Number);
const THEIRS_MAX = Number(process.env.BENCH_THEIRS_MAX_TOKENS ?? 32768);
const WINDOWS = process.env.BENCH_LONG_WINDOWS === undefined ? undefined : Number(process.env.BENCH_LONG_WINDOWS);

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when ' +
  'your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into ' +
  'time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come ' +
  'made may part over new sound take only little work know place year live me back give most very after thing our just name good sentence man'
).split(' ');

/** Prose of about `tokens` tokens by `tok`'s count: pseudo-random words, sentences, a line break every few. */
export function longProse(tok: TextTokenizer, tokens: number, seed: number): string {
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const parts: string[] = [];
  let count = 0;
  let words = 0;
  while (count < tokens) {
    const sentence: string[] = [];
    const n = 8 + (next() % 13);
    for (let i = 0; i < n; i++) sentence.push(WORDS[(next() >>> 8) % WORDS.length]!);
    const line = `${sentence[0]![0]!.toUpperCase()}${sentence.join(' ').slice(1)}.${++words % 4 === 0 ? '\n' : ' '}`;
    parts.push(line);
    count += tok.encodeIds(line).length;
  }
  return parts.join('');
}

/** What ours scores, as text for transformers.js: half-overlapping chunks of about 510 tokens (words packed by token count). */
function overlappingChunks(tok: TextTokenizer, text: string, capacity = 510): string[] {
  const words = text.split(/(?<=\s)/);
  const counts = new Map<string, number>();
  const cost = (w: string) => {
    let c = counts.get(w);
    if (c === undefined) counts.set(w, (c = tok.encodeIds(w).length));
    return c;
  };
  const halves: string[] = [];
  let current = '';
  let used = 0;
  for (const w of words) {
    const c = cost(w);
    if (used + c > capacity / 2 && current) {
      halves.push(current);
      current = '';
      used = 0;
    }
    current += w;
    used += c;
  }
  if (current) halves.push(current);
  if (halves.length === 1) return halves;
  return halves.slice(0, -1).map((h, i) => h + halves[i + 1]!);
}

function ms(n: number): string {
  return Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : 'n/a';
}

function ok(v: Verdict): Verdict {
  if (v.error) throw new Error(`guard error during the benchmark: ${v.error.type}: ${v.error.message}`);
  return v;
}

interface OursRun {
  wallMs: number;
  promptMs: number;
  contentMs: number;
  views: string;
  eldP99: number;
  eldMax: number;
}

/** Both guards on one text at once, in a pool of `workers`; cache off, so every segment runs. */
async function ours(models: LongInputModels, workers: number, text: string): Promise<OursRun> {
  ortHost().configure({ workers });
  const common = { cacheSize: 0, timeoutMs: 600_000, maxSegments: 1_000_000, fineWindowTokens: WINDOWS };
  const pg = createPromptGuard({ name: 'prompt_guard', modelDir: models.prompt, ...common });
  const cg = createContentEncoderGuard({ name: 'llama_guard', modelDir: models.content, ...common });
  await pg.load();
  await cg.load();
  try {
    // A warm-up on a short text: sessions planned, workers hot.
    await Promise.all([pg.check(doc(text.slice(0, 4000))), cg.check(turn(text.slice(0, 4000)))]);
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const started = performance.now();
    const [a, b] = await Promise.all([pg.check(doc(text)).then(ok), cg.check(turn(text)).then(ok)]);
    const wallMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 5));
    h.disable();
    return { wallMs, promptMs: a.latencyMs, contentMs: b.latencyMs, views: `${a.segmentsScanned}+${a.windowsScanned ?? 0} / ${b.segmentsScanned}+${b.windowsScanned ?? 0}`, eldP99: h.percentile(99) / 1e6, eldMax: h.max / 1e6 };
  } finally {
    await pg.close();
    await cg.close();
  }
}

const doc = (text: string): GuardRequest => ({ direction: 'input', texts: [{ source: 'document', path: 'documents[0]', text }], conversation: [] });
const turn = (text: string): GuardRequest => ({ direction: 'input', texts: [], conversation: [{ role: 'user', content: text }] });

async function theirsTime(pipe: TheirPipeline, chunks: string[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < chunks.length; i += 16) await pipe(chunks.slice(i, i + 16));
  return performance.now() - started;
}

export async function longInputSection(models: LongInputModels, deps: LongInputDeps): Promise<void> {
  const pool = ortHost().poolSize;
  const directory = readModelDirectory(models.prompt);
  const tok = new TextTokenizer(directory.tokenizerJson, directory.tokenizerConfig);
  const windowSetting = WINDOWS === undefined ? "the models' config.json setting" : `fine_window_tokens ${WINDOWS}`;
  console.log(`\n# (e) long inputs: both bundled guards on one whole text, every segment${WINDOWS ? ' and fine window' : ''} (${windowSetting})\n`);
  console.log(`- ours: Prompt Guard on the text as a document and the content guard on it as a user turn, at once; result cache off; pool of ${pool} ONNX worker(s) vs 1`);
  console.log(`- event-loop delay (ms) sampled during the pooled run; "segments+windows" per guard`);
  const theirsP = await deps.loadTheirs(models.prompt, 'prompt');
  const theirsC = await deps.loadTheirs(models.content, 'content');
  console.log(`- theirs: ${theirsP.note}; the same half-overlapping ~510-token chunks ours scores, 16 per call, one guard after the other (both on the main thread)\n`);
  const rows: (string | number)[][] = [];
  const rateRows: (string | number)[][] = [];
  let theirRate: { p: number; c: number } | undefined;
  for (const tokens of SIZES) {
    const text = longProse(tok, tokens, 1234 + tokens);
    const one = await ours(models, 1, text);
    const many = pool > 1 ? await ours(models, pool, text) : one;
    let theirMs = NaN;
    let theirNote = '';
    if (theirsP.pipe && theirsC.pipe) {
      const chunks = overlappingChunks(tok, text);
      if (tokens <= THEIRS_MAX) {
        const p = await theirsTime(theirsP.pipe, chunks);
        const c = await theirsTime(theirsC.pipe, chunks);
        theirMs = p + c;
        theirRate = { p: tokens / p, c: tokens / c };
      } else if (theirRate) {
        theirMs = tokens / theirRate.p + tokens / theirRate.c;
        theirNote = ' (est.)';
      }
    }
    rows.push([
      String(tokens),
      many.views,
      ms(one.wallMs),
      ms(many.wallMs),
      (one.wallMs / many.wallMs).toFixed(2),
      `${ms(many.eldP99)} / ${ms(many.eldMax)}`,
      `${ms(theirMs)}${theirNote}`,
      Number.isFinite(theirMs) ? (many.wallMs / theirMs).toFixed(2) : '-',
    ]);
    rateRows.push([String(tokens), ((tokens / many.promptMs) * 1000).toFixed(0), ((tokens / many.contentMs) * 1000).toFixed(0), theirRate && tokens <= THEIRS_MAX ? (theirRate.p * 1000).toFixed(0) : '-', theirRate && tokens <= THEIRS_MAX ? (theirRate.c * 1000).toFixed(0) : '-']);
  }
  console.log(
    table(
      ['tokens', 'segments+windows (pg / cg)', 'wall ms, 1 worker', `wall ms, ${pool} workers`, 'pool speedup', 'event loop p99 / max ms', 'transformers.js ms', 'ours / theirs'],
      rows,
    ),
  );
  console.log('\n### tokens per second per guard (ours: each guard\'s own time in the pooled run, the two sharing the cores; theirs: alone)\n');
  console.log(table(['tokens', 'ours prompt-guard', 'ours content-guard', 'transformers.js prompt-guard', 'transformers.js content-guard'], rateRows));
  await theirsP.dispose();
  await theirsC.dispose();
  ortHost().configure({ workers: pool });
}

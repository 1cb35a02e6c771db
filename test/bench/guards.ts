import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { packageRoot } from '../../gateway/paths';
import { createContentEncoderGuard } from '../../guards/contentEncoder';
import { splitTemplate } from '../../guards/encoder/template';
import { EncoderClassifier } from '../../guards/encoder/encoderClassifier';
import { classifyPromptIds } from '../../guards/llamaGuard/onnx/classify';
import { loadLlamaGuardOnnxModel, type LlamaGuardOnnxModel } from '../../guards/llamaGuard/onnx/localModel';
import { renderPrompt } from '../../guards/llamaGuard/prompt';
import { type ModelDirectory, readModelDirectory } from '../../guards/modelDirectory';
import { defaultIntraOpThreads } from '../../guards/onnx/encoderSession';
import { INLINE_BUDGET_MS } from '../../guards/onnx/inlineEncoder';
import { ortHost } from '../../guards/onnx/ortHost';
import { createPromptGuard, type PromptGuard } from '../../guards/promptGuard';
import type { ContentEncoderGuard } from '../../guards/contentEncoder';
import { TextTokenizer } from '../../guards/tokenizer/textTokenizer';
import type { GuardRequest, Verdict } from '../../guards/types';
import { growingChatSection } from './growingChat';
import { longInputSection } from './longInputs';
import { machine, summarize, table } from './stats';

/**
 * npm run bench:guards (after npm run build). Side by side in one run:
 *  (a) the Prompt Guard path (ONNX in the worker thread) against the same ONNX model through
 *      transformers.js: ms per classification by input length (interleaved, same texts),
 *      throughput with micro-batching at 1 / 4 / 16 concurrent requests, and event-loop delay
 *      while classifying and while scanning a 1 MB input;
 *  (b) Llama Guard on the local ONNX backend: P(unsafe) latency by prompt length, decode
 *      tokens/s with and without the KV cache;
 *  (c) the bundled models' median latency at 128 tokens against the 10 ms target;
 *  (d) what the fine-grained windows cost on documents of 128-8192 tokens (bundled models);
 *  (e) whole inputs of 8K / 32K / 128K tokens through both bundled guards at once, the pool of
 *      ONNX workers against one worker, and transformers.js on the same text (longInputs.ts);
 *  (f) a growing 20-turn chat through the gateway: guard time per turn with verdicts reused
 *      (growingChat.ts).
 * (a)-(c) run with fine windows off (transformers.js has none); (d) compares off and on.
 * BENCH_SECTIONS (default a,b,c,d,e,f) picks sections, e.g. BENCH_SECTIONS=e,f.
 * Models: the fixture prompt-guard-v1-tiny always; guards/models/prompt-guard-small and
 * content-guard-small when they are there. No result is asserted: this prints what it measures.
 *
 * Knobs: BENCH_REPS (samples per latency cell, default 200), BENCH_CELL_MS (time cap per
 * latency cell, default 4000; the cells of one model are measured together, round by round), BENCH_LOAD_MS (duration of each throughput / delay run, 2500),
 * BENCH_THEIR_DEFAULTS=1 (transformers.js with onnxruntime's default session options instead of ours).
 */
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'a,b,c,d,e,f').split(',').map((x) => x.trim()));
const REPS = Number(process.env.BENCH_REPS ?? 200);
const CELL_MS = Number(process.env.BENCH_CELL_MS ?? 4000);
const LOAD_MS = Number(process.env.BENCH_LOAD_MS ?? 2500);
const LENGTHS = [16, 64, 128, 256, 512];
const CONCURRENCY = [1, 4, 16];
const TARGET_MS = 10;
/** transformers.js gets our session options unless asked for its own defaults (which spin two threads on this 2-core machine). */
const THEIR_DEFAULTS = process.env.BENCH_THEIR_DEFAULTS === '1';
const OUR_SESSION_OPTIONS = { intraOpNumThreads: defaultIntraOpThreads(), interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' };

const ROOT = packageRoot();

interface EncoderModel {
  label: string;
  dir: string;
  kind: 'prompt' | 'content';
  bundled: boolean;
}

// ---------------------------------------------------------------------------------------------
// Inputs of a given token length

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when ' +
  'your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into ' +
  'time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come ' +
  'made may part over new sound take only little work know place year live me back give most very after thing our just name good sentence man ' +
  'think say great where help through much before line right too mean old any same tell boy follow came want show also around form three small ' +
  'set put end does another well large must big even such because turn here why ask went men read need land different home us move try kind ' +
  'hand picture again change off play spell air away animal house point page letter mother answer found study still learn should world weather'
).split(' ');

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomWords(rand: () => number, n: number): string[] {
  return Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]!);
}

/** `count` different texts of `tokens` tokens each (as the model sees them, overhead included), or as close below as words allow. */
function makeTexts(tok: TextTokenizer, tokens: number, overhead: number, count: number, seed: number): { texts: string[]; meanTokens: number } {
  const rand = random(seed);
  const target = Math.max(1, tokens - overhead);
  const texts: string[] = [];
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const words = randomWords(rand, target + 8);
    let lo = 1;
    let hi = words.length;
    // Largest word count whose token count fits the target.
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (tok.encodeIds(words.slice(0, mid).join(' ')).length <= target) lo = mid;
      else hi = mid - 1;
    }
    const text = words.slice(0, lo).join(' ');
    texts.push(text);
    sum += tok.encodeIds(text).length + overhead;
  }
  return { texts, meanTokens: sum / count };
}

/** About `bytes` of text, words separated by spaces and a newline every ~20 words. */
function bigText(bytes: number): string {
  const rand = random(7);
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = randomWords(rand, 20).join(' ') + '.\n';
    parts.push(line);
    size += line.length;
  }
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Our guards and transformers.js

type Ours = PromptGuard | ContentEncoderGuard;

/**
 * cacheSize 0: every call is scored, as with transformers.js. Fine windows off unless asked:
 * transformers.js scores segments only, so (a) compares like with like; (d) measures the windows.
 */
function ourGuard(model: EncoderModel, timeoutMs = 60_000, fineWindowTokens = 0): Ours {
  return model.kind === 'prompt'
    ? createPromptGuard({ name: 'pg', modelDir: model.dir, cacheSize: 0, timeoutMs, maxSegments: 1_000_000, fineWindowTokens })
    : createContentEncoderGuard({ name: 'cg', modelDir: model.dir, cacheSize: 0, timeoutMs, maxSegments: 1_000_000, fineWindowTokens });
}

function request(model: EncoderModel, text: string): GuardRequest {
  return model.kind === 'prompt'
    ? { direction: 'input', texts: [{ source: 'user', path: 'messages[0].content', text }], conversation: [] }
    : { direction: 'input', texts: [], conversation: [{ role: 'user', content: text }] };
}

interface TextClassifier {
  (text: string | string[], options?: Record<string, unknown>): Promise<unknown>;
  dispose(): Promise<void>;
}

interface Theirs {
  pipe?: TextClassifier;
  note: string;
}

function packageVersion(name: string): string | undefined {
  try {
    // package.json is not always exported: find it above the resolved entry point.
    let dir = path.dirname(require.resolve(name));
    while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function transformersVersion(): string | undefined {
  return packageVersion('@huggingface/transformers');
}

/** The same model directory through transformers.js's text-classification pipeline, local files only. */
async function loadTheirs(model: EncoderModel, directory: ModelDirectory, theirDefaults = THEIR_DEFAULTS): Promise<Theirs> {
  let t: {
    env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };
    pipeline: (task: string, model: string, options: Record<string, unknown>) => Promise<TextClassifier>;
  };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    t = require('@huggingface/transformers');
  } catch (err) {
    return { note: `transformers.js not installed (${(err as Error).message.split('\n')[0]})` };
  }
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  t.env.localModelPath = path.dirname(model.dir) + path.sep;
  const rel = path.relative(model.dir, directory.onnxPath);
  const subfolder = path.dirname(rel) === '.' ? '' : path.dirname(rel);
  try {
    const pipe = await t.pipeline('text-classification', path.basename(model.dir), {
      subfolder,
      model_file_name: path.basename(rel, '.onnx'),
      dtype: 'fp32',
      ...(theirDefaults ? {} : { session_options: OUR_SESSION_OPTIONS }),
    });
    const how = theirDefaults
      ? "onnxruntime's default session options (all cores)"
      : `the same session options as ours (${JSON.stringify(OUR_SESSION_OPTIONS)}; BENCH_THEIR_DEFAULTS=1 for theirs)`;
    return { pipe, note: `transformers.js ${transformersVersion()} text-classification pipeline, ${rel}, on the main thread, ${how}` };
  } catch (err) {
    return { note: `transformers.js could not load ${model.label}: ${(err as Error).message.split('\n')[0]}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function ms(n: number): string {
  return Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) : 'n/a';
}

async function eventLoopDelay(work: () => Promise<unknown>): Promise<{ p50: number; p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await work();
  // A synchronous block delays the next sample, which is only taken once the loop turns again.
  await new Promise((r) => setTimeout(r, 5));
  h.disable();
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

/** `concurrency` closed-loop clients for `durationMs`; completed requests and their latencies. */
async function load(concurrency: number, durationMs: number, texts: string[], call: (text: string) => Promise<unknown>) {
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const text = texts[next++ % texts.length]!;
        latencies.push(await timeOnce(() => call(text)));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { completed: latencies.length, perSecond: latencies.length / seconds, latency: summarize(latencies) };
}

function checkOk(v: Verdict): Verdict {
  if (v.error) throw new Error(`guard error during the benchmark: ${v.error.type}: ${v.error.message}`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// (a) + (c): encoder models

interface ModelResult {
  model: EncoderModel;
  median128?: number;
}

/** The model's directory and tokenizer, and the tokens each segment adds around a text ([CLS]/[SEP], the content template). */
function modelFrame(model: EncoderModel): { directory: ModelDirectory; tok: TextTokenizer; overhead: number } {
  const directory = readModelDirectory(model.dir);
  const tok = new TextTokenizer(directory.tokenizerJson, directory.tokenizerConfig);
  let overhead = tok.frame.prefix.length + tok.frame.suffix.length;
  if (model.kind === 'content') {
    const parts = splitTemplate(directory.config.textTemplate?.user);
    overhead += tok.encodeIds(parts.prefix).length + tok.encodeIds(parts.suffix).length;
  }
  return { directory, tok, overhead };
}

async function benchEncoder(model: EncoderModel): Promise<ModelResult> {
  const { directory, tok, overhead } = modelFrame(model);
  const guard = ourGuard(model);
  await guard.load();
  const inlineMaxTokens = guard.stats().inlineMaxTokens;
  // Prompt Guard's whitespace-attack fix tokenizes every text twice; this one skips it, to show
  // its cost (and runs inline up to the same length, so that is the only difference).
  const plain =
    model.kind === 'prompt'
      ? createPromptGuard({ name: 'pg', modelDir: model.dir, cacheSize: 0, timeoutMs: 60_000, whitespaceMitigation: false, inlineMaxTokens })
      : undefined;
  await plain?.load();
  const theirs = await loadTheirs(model, directory);
  console.log(`\n## ${model.label} (${path.relative(ROOT, model.dir)})\n`);
  console.log(
    `- ours: guard.check() end to end (sanitize, ${model.kind === 'prompt' ? 'whitespace-attack fix, ' : ''}tokenize, micro-batcher, ONNX with ${defaultIntraOpThreads()} intra-op thread(s)), result cache off`,
  );
  console.log(
    `- ours, where runs go: a lone segment of up to ${inlineMaxTokens} tokens on the main thread (measured at load to fit the default ${INLINE_BUDGET_MS} ms budget), everything else in the ONNX worker thread`,
  );
  console.log(`- theirs: ${theirs.note}`);
  console.log('- same texts for both; each round runs every length, one call of each side per length in rotating order; "tokens" counts what the model sees, [CLS]/[SEP]' + (model.kind === 'content' ? ' and our role template included (transformers.js gets the text without the template)' : ' included'));

  // Latency by length: every round visits every length, and at each length one call of each
  // contender in rotating order, so a burst of background load hits all cells alike.
  interface Contender {
    run: (k: number) => Promise<unknown>;
    samples: number[];
  }
  const cells = LENGTHS.map((tokens, i) => {
    const { texts, meanTokens } = makeTexts(tok, tokens, overhead, 32, 1000 + i);
    const req = texts.map((t) => request(model, t));
    const ours: Contender = { run: async (k) => checkOk(await guard.check(req[k]!)), samples: [] };
    const noFix: Contender | undefined = plain && { run: async (k) => checkOk(await plain.check(req[k]!)), samples: [] };
    const their: Contender | undefined = theirs.pipe && { run: (k) => theirs.pipe!(texts[k]!), samples: [] };
    return { tokens, meanTokens, ours, noFix, their, all: [ours, noFix, their].filter((c): c is Contender => c !== undefined) };
  });
  const warmUntil = performance.now() + 1000;
  for (let w = 0; w < 5 || performance.now() < warmUntil; w++) for (const cell of cells) for (const c of cell.all) await c.run(w % 32);
  const stop = performance.now() + CELL_MS * LENGTHS.length;
  for (let r = 0; r < REPS && (r < 30 || performance.now() < stop); r++) {
    for (const cell of cells) {
      for (let i = 0; i < cell.all.length; i++) {
        const c = cell.all[(r + i) % cell.all.length]!;
        c.samples.push(await timeOnce(() => c.run(r % 32)));
      }
    }
  }
  const rows: (string | number)[][] = [];
  let median128: number | undefined;
  for (const cell of cells) {
    const o = summarize(cell.ours.samples);
    const t = cell.their ? summarize(cell.their.samples) : undefined;
    if (cell.tokens === 128) median128 = o.p50;
    rows.push([
      String(cell.tokens),
      cell.meanTokens.toFixed(1),
      String(o.n),
      ms(o.p50),
      ms(o.p99),
      cell.noFix ? ms(summarize(cell.noFix.samples).p50) : '-',
      t ? ms(t.p50) : 'n/a',
      t ? ms(t.p99) : 'n/a',
      t ? (o.p50 / t.p50).toFixed(2) : 'n/a',
    ]);
  }
  console.log('\n### ms per classification\n');
  console.log(
    table(['tokens', 'actual', 'n', 'ours p50', 'ours p99', 'ours p50, no ws-fix', 'transformers.js p50', 'transformers.js p99', 'ours/theirs (p50)'], rows),
  );

  // Throughput.
  const { texts: loadTexts } = makeTexts(tok, 128, overhead, 64, 77);
  const tputRows: (string | number)[][] = [];
  for (const c of CONCURRENCY) {
    const before = guard.stats();
    const ours = await load(c, LOAD_MS, loadTexts, async (text) => checkOk(await guard.check(request(model, text))));
    const after = guard.stats();
    const batches = after.batches - before.batches;
    const meanBatch = batches ? (after.segmentsRun - before.segmentsRun) / batches : 0;
    const inlineShare = batches ? (after.inlineRuns - before.inlineRuns) / batches : 0;
    const their = theirs.pipe ? await load(c, LOAD_MS, loadTexts, (text) => theirs.pipe!(text)) : undefined;
    tputRows.push([
      String(c),
      ours.perSecond.toFixed(0),
      ms(ours.latency.p50),
      ms(ours.latency.p99),
      meanBatch.toFixed(1),
      `${(100 * inlineShare).toFixed(0)}%`,
      their ? their.perSecond.toFixed(0) : 'n/a',
      their ? ms(their.latency.p50) : 'n/a',
      their ? (ours.perSecond / their.perSecond).toFixed(2) : 'n/a',
    ]);
  }
  console.log(`\n### throughput, 128-token requests, closed loop for ${LOAD_MS} ms\n`);
  console.log(table(['concurrent', 'ours req/s', 'ours p50 ms', 'ours p99 ms', 'mean batch', 'runs inline', 'transformers.js req/s', 'transformers.js p50 ms', 'ours/theirs (req/s)'], tputRows));

  // Event-loop delay.
  const eldRows: (string | number)[][] = [];
  const idle = await eventLoopDelay(() => new Promise((r) => setTimeout(r, 500)));
  eldRows.push(['idle (baseline)', '-', ms(idle.p50), ms(idle.p99), ms(idle.max)]);
  const busyOurs = await eventLoopDelay(() => load(16, LOAD_MS, loadTexts, async (text) => checkOk(await guard.check(request(model, text)))));
  eldRows.push(['classifying, 16 concurrent x 128 tokens', 'ours', ms(busyOurs.p50), ms(busyOurs.p99), ms(busyOurs.max)]);
  if (theirs.pipe) {
    const busyTheirs = await eventLoopDelay(() => load(16, LOAD_MS, loadTexts, (text) => theirs.pipe!(text)));
    eldRows.push(['classifying, 16 concurrent x 128 tokens', 'transformers.js', ms(busyTheirs.p50), ms(busyTheirs.p99), ms(busyTheirs.max)]);
  }
  // Short requests one after another: what inline runs cost the event loop (each holds it for one run).
  const { texts: shortTexts } = makeTexts(tok, 16, overhead, 64, 78);
  const shortOurs = await eventLoopDelay(() => load(1, LOAD_MS, shortTexts, async (text) => checkOk(await guard.check(request(model, text)))));
  eldRows.push([`classifying, 1 client x 16 tokens (ours: runs inline up to ${inlineMaxTokens} tokens)`, 'ours', ms(shortOurs.p50), ms(shortOurs.p99), ms(shortOurs.max)]);
  if (theirs.pipe) {
    const shortTheirs = await eventLoopDelay(() => load(1, LOAD_MS, shortTexts, (text) => theirs.pipe!(text)));
    eldRows.push(['classifying, 1 client x 16 tokens', 'transformers.js', ms(shortTheirs.p50), ms(shortTheirs.p99), ms(shortTheirs.max)]);
  }
  const notes: string[] = [];
  for (const bytes of [16 << 10, 1 << 20]) {
    const big = bigText(bytes);
    const size = bytes >= 1 << 20 ? `${bytes >> 20} MB` : `${bytes >> 10} KB`;
    let segments = 0;
    let took = 0;
    const ours = await eventLoopDelay(async () => {
      took = await timeOnce(async () => {
        segments = checkOk(await guard.check(request(model, big))).segmentsScanned;
      });
    });
    eldRows.push([`one ${size} input (ours: sanitize, tokenize all of it, ${segments} segments)`, 'ours', ms(ours.p50), ms(ours.p99), ms(ours.max)]);
    notes.push(`ours scanned the ${size} input in ${ms(took)} ms`);
    // transformers.js's time on one long text grows faster than linearly (1 MB would take hours),
    // so it only gets the 16 KB input.
    if (theirs.pipe && bytes <= 16 << 10) {
      let theirsTook = 0;
      const d = await eventLoopDelay(async () => {
        theirsTook = await timeOnce(() => theirs.pipe!(big));
      });
      eldRows.push([`one ${size} input (transformers.js pipeline, truncates to 512 tokens)`, 'transformers.js', ms(d.p50), ms(d.p99), ms(d.max)]);
      notes.push(`transformers.js took ${ms(theirsTook)} ms on the ${size} input; not run on 1 MB: its time grows faster than the input (here 4 KB ~0.2 s, 16 KB ~3 s, 64 KB ~100 s)`);
    }
  }
  console.log('\n### event-loop delay (ms; monitorEventLoopDelay, 1 ms sampling interval included)\n');
  console.log(table(['while', 'who', 'p50', 'p99', 'max'], eldRows));
  console.log('\n' + notes.map((n) => `- ${n}`).join('\n'));

  await guard.close();
  await plain?.close();
  await theirs.pipe?.dispose();
  return { model, median128 };
}

/** (c): one bundled model at 128 tokens, on its own. */
async function bundledLatency(model: EncoderModel): Promise<{ check: ReturnType<typeof summarize>; model: ReturnType<typeof summarize> }> {
  const { directory, tok, overhead } = modelFrame(model);
  const { texts } = makeTexts(tok, 128, overhead, 32, 4242);
  const guard = ourGuard(model);
  await guard.load();
  const classifier = await EncoderClassifier.load({ modelDir: model.dir });
  const template = splitTemplate(model.kind === 'content' ? directory.config.textTemplate?.user : undefined);
  const layout = classifier.layout(classifier.tokenizer.encodeIds(template.prefix), classifier.tokenizer.encodeIds(template.suffix));
  const segments = texts.map((t) => classifier.segments(classifier.tokenizer.encodeIds(t), layout));
  const check: number[] = [];
  const run: number[] = [];
  try {
    for (let w = 0; w < 20; w++) {
      checkOk(await guard.check(request(model, texts[w % texts.length]!)));
      await classifier.classify(segments[w % segments.length]!);
    }
    const stop = performance.now() + CELL_MS;
    for (let r = 0; r < REPS && (r < 30 || performance.now() < stop); r++) {
      const k = r % texts.length;
      check.push(await timeOnce(async () => checkOk(await guard.check(request(model, texts[k]!)))));
      run.push(await timeOnce(() => classifier.classify(segments[k]!)));
    }
  } finally {
    await guard.close();
    await classifier.close();
  }
  return { check: summarize(check), model: summarize(run) };
}

/** Prose of about `tokens` tokens: sentences of 8-20 words, a line break every few sentences. */
function prose(tok: TextTokenizer, tokens: number, seed: number): string {
  const rand = random(seed);
  const lines: string[] = [];
  let sentences: string[] = [];
  let text = '';
  while (tok.encodeIds(text).length < tokens) {
    const words = randomWords(rand, 8 + Math.floor(rand() * 13));
    sentences.push(`${words[0][0].toUpperCase()}${words[0].slice(1)} ${words.slice(1).join(' ')}.`);
    if (sentences.length >= 3 + Math.floor(rand() * 3)) {
      lines.push(sentences.join(' '));
      sentences = [];
    }
    text = [...lines, sentences.join(' ')].join('\n');
  }
  return text;
}

/** (d): what the fine-grained windows cost: one document per length, windows off vs the model's setting. */
async function fineWindowCost(model: EncoderModel): Promise<(string | number)[][]> {
  const { directory, tok } = modelFrame(model);
  const windowTokens = directory.config.fineWindowTokens ?? 0;
  const rows: (string | number)[][] = [];
  if (!windowTokens) return [[model.label, 'no fine_windows in config.json', '-', '-', '-', '-', '-']];
  const off = ourGuard(model, 120_000, 0);
  const on = ourGuard(model, 120_000, windowTokens);
  await off.load();
  await on.load();
  try {
    for (const tokens of [128, 512, 2048, 8192]) {
      const text = prose(tok, tokens, 900 + tokens);
      const req = (): GuardRequest =>
        model.kind === 'prompt'
          ? { direction: 'input', texts: [{ source: 'document', path: 'documents[0]', text }], conversation: [] }
          : { direction: 'input', texts: [], conversation: [{ role: 'user', content: text }] };
      const views = checkOk(await on.check(req()));
      checkOk(await off.check(req()));
      const a: number[] = [];
      const b: number[] = [];
      const reps = tokens >= 8192 ? 8 : tokens >= 2048 ? 20 : 60;
      for (let r = 0; r < reps; r++) {
        a.push(await timeOnce(async () => checkOk(await off.check(req()))));
        b.push(await timeOnce(async () => checkOk(await on.check(req()))));
      }
      const sa = summarize(a);
      const sb = summarize(b);
      rows.push([model.label, tokens, `${views.segmentsScanned} + ${views.windowsScanned ?? 0}`, ms(sa.p50), ms(sb.p50), (sb.p50 / sa.p50).toFixed(2), String(reps)]);
    }
  } finally {
    await off.close();
    await on.close();
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// (b) Llama Guard, local ONNX backend

/** A rendered Llama Guard prompt of about `tokens` tokens. */
function guardPrompt(m: LlamaGuardOnnxModel, tokens: number, seed: number): number[] {
  const rand = random(seed);
  const render = (n: number, words: string[]) =>
    m.encode(renderPrompt({ variant: '1b', role: 'User', turns: [{ role: 'User', text: words.slice(0, n).join(' ') }] }));
  const words = randomWords(rand, tokens + 8);
  let lo = 1;
  let hi = words.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (render(mid, words).length <= tokens) lo = mid;
    else hi = mid - 1;
  }
  return render(lo, words);
}

async function benchLlamaGuard(): Promise<void> {
  const dir = path.join(ROOT, 'test', 'fixtures', 'models', 'llama-guard-tiny');
  console.log(`\n## (b) Llama Guard, local ONNX backend (${path.relative(ROOT, dir)}: 2 layers, random weights, 512-token vocab)\n`);
  console.log('- P(unsafe): prompt prefill + the forced `\\n\\n` step through the KV cache, in the worker (classifyPromptIds, maxNewTokens 2)');
  console.log('- full check: P(unsafe) + greedy answer, capped at 32 tokens (the random model never stops early)');
  const m = await loadLlamaGuardOnnxModel({ modelDir: dir });
  try {
    const rows: (string | number)[][] = [];
    const template = m.encode(renderPrompt({ variant: '1b', role: 'User', turns: [{ role: 'User', text: '' }] })).length;
    for (const tokens of [256, 512, 1024, 2048]) {
      if (tokens < template + 8) continue;
      const prompts = Array.from({ length: 8 }, (_, i) => guardPrompt(m, tokens, 50 + i));
      for (let w = 0; w < 3; w++) await classifyPromptIds(m.decoder, m.tokens, prompts[w]!, 2);
      const pu: number[] = [];
      const full: number[] = [];
      const stop = performance.now() + CELL_MS;
      for (let r = 0; r < REPS && (r < 20 || performance.now() < stop); r++) {
        const ids = prompts[r % prompts.length]!;
        pu.push(await timeOnce(() => classifyPromptIds(m.decoder, m.tokens, ids, 2)));
        if (r < 40) full.push(await timeOnce(() => classifyPromptIds(m.decoder, m.tokens, ids, 32)));
      }
      const p = summarize(pu);
      const f = summarize(full);
      rows.push([String(tokens), (prompts.reduce((a, b) => a + b.length, 0) / prompts.length).toFixed(0), String(p.n), ms(p.p50), ms(p.p99), String(f.n), ms(f.p50)]);
    }
    console.log(`\n### P(unsafe) latency by prompt length (template alone: ${template} tokens)\n`);
    console.log(table(['prompt tokens', 'actual', 'n', 'P(unsafe) p50 ms', 'p99 ms', 'n', 'full check (32 tokens) p50 ms'], rows));

    const decodeRows: (string | number)[][] = [];
    const NEW = 64;
    for (const tokens of [256, 1024]) {
      const ids = guardPrompt(m, tokens, 99);
      const rate: Record<string, number[]> = { cache: [], nocache: [] };
      for (let r = 0; r < 5; r++) {
        for (const useCache of [true, false]) {
          // Decode rate: generated tokens over the time after the prefill (prefill timed separately).
          const prefill = await timeOnce(() => m.decoder.forwardFull(ids));
          const total = await timeOnce(() => m.decoder.generate(ids, { maxNewTokens: NEW, stopIds: [], useCache }));
          rate[useCache ? 'cache' : 'nocache']!.push((NEW - 1) / (Math.max(total - prefill, 1e-3) / 1000));
        }
      }
      const c = summarize(rate.cache!).p50;
      const n = summarize(rate.nocache!).p50;
      decodeRows.push([String(tokens), String(ids.length), String(NEW), c.toFixed(0), n.toFixed(0), (c / n).toFixed(1)]);
    }
    console.log('\n### greedy decode, tokens/s after the prefill (median of 5)\n');
    console.log(table(['prompt tokens', 'actual', 'new tokens', 'with KV cache', 'without (rerun all)', 'speedup'], decodeRows));
  } finally {
    await m.close();
  }
}

// ---------------------------------------------------------------------------------------------

function cpuLine(): string {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  return `${machine()}; os.availableParallelism() ${os.availableParallelism()}; load average (1/5/15 min) ${load}`;
}

function bundledModel(name: string, kind: 'prompt' | 'content'): { model?: EncoderModel; missing?: string } {
  const dir = path.join(ROOT, 'guards', 'models', name);
  try {
    readModelDirectory(dir);
    return { model: { label: `bundled ${name}`, dir, kind, bundled: true } };
  } catch (err) {
    return { missing: `${path.relative(ROOT, dir)}: ${(err as Error).message.split('. ')[0]}` };
  }
}

async function main(): Promise<void> {
  const ortVersion = packageVersion('onnxruntime-node');
  console.log('# Guard benchmarks (npm run bench:guards)\n');
  console.log(`- machine: ${cpuLine()}`);
  console.log(`- onnxruntime-node ${ortVersion} (ours: a pool of ${ortHost().poolSize} worker thread(s)); transformers.js ${transformersVersion() ?? 'not installed'} (on the main thread)`);
  console.log(`- settings: up to ${REPS} samples per latency cell (at least 30; a model's cells stop after ${CELL_MS} ms each), ${LOAD_MS} ms per load run`);

  const models: EncoderModel[] = [
    { label: 'fixture prompt-guard-v1-tiny', dir: path.join(ROOT, 'test', 'fixtures', 'models', 'prompt-guard-v1-tiny'), kind: 'prompt', bundled: false },
  ];
  const missing: string[] = [];
  for (const [name, kind] of [
    ['prompt-guard-small', 'prompt'],
    ['content-guard-small', 'content'],
  ] as const) {
    const found = bundledModel(name, kind);
    if (found.model) models.push(found.model);
    else missing.push(found.missing!);
  }
  for (const m of missing) console.log(`- not benchmarked (absent): ${m}`);

  const results: ModelResult[] = [];
  if (SECTIONS.has('a')) console.log('\n# (a) Prompt Guard path vs transformers.js');
  for (const model of SECTIONS.has('a') ? models : []) {
    try {
      results.push(await benchEncoder(model));
    } catch (err) {
      // A bundled model still being written (training runs beside this) must not sink the rest.
      console.log(`\n## ${model.label}: not benchmarked, it failed: ${(err as Error).message}`);
    }
  }

  if (SECTIONS.has('b')) await benchLlamaGuard();
  if (SECTIONS.has('c')) await bundledSection(models, results);
  if (SECTIONS.has('d')) await windowSection(models);
  const prompt = models.find((m) => m.bundled && m.kind === 'prompt');
  const content = models.find((m) => m.bundled && m.kind === 'content');
  if (SECTIONS.has('e') && prompt && content) {
    await longInputSection(
      { prompt: prompt.dir, content: content.dir },
      {
        // transformers.js with its own session options here: all cores on the main thread, its best use of the machine for one long input.
        async loadTheirs(dir, kind) {
          const model = kind === 'prompt' ? prompt : content;
          const theirs = await loadTheirs(model, readModelDirectory(dir), true);
          return {
            pipe: theirs.pipe,
            note: theirs.note,
            dispose: async () => {
              await theirs.pipe?.dispose();
            },
          };
        },
      },
    );
  }
  if (SECTIONS.has('f')) await growingChatSection();
  console.log(`\n- workers: ${JSON.stringify(ortHost().stats)}; load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
}

async function bundledSection(models: EncoderModel[], results: ModelResult[]): Promise<void> {
  console.log(`\n# (c) bundled models: latency of one 128-token input (target <= ${TARGET_MS} ms on this machine)\n`);
  console.log('- guard.check() alone in the process (no transformers.js calls in between), result cache off; "model run" is the');
  console.log('  same input already tokenized, through the batcher to the ONNX worker and back (the run plus the thread hops; 128 tokens');
  console.log('  is longer than these models run inline)\n');
  const bundledRows: (string | number)[][] = [];
  for (const name of ['prompt-guard-small', 'content-guard-small']) {
    const model = models.find((m) => m.bundled && path.basename(m.dir) === name);
    if (!model) {
      bundledRows.push([name, 'absent', '-', '-', '-', '-', '-']);
      continue;
    }
    let r: Awaited<ReturnType<typeof bundledLatency>>;
    try {
      r = await bundledLatency(model);
    } catch (err) {
      bundledRows.push([name, `failed: ${(err as Error).message.slice(0, 80)}`, '-', '-', '-', '-', '-']);
      continue;
    }
    const inA = results.find((x) => x.model === model)?.median128;
    bundledRows.push([name, String(r.check.n), ms(r.check.p50), ms(r.check.p99), ms(r.model.p50), r.check.p50 <= TARGET_MS ? 'yes' : 'NO', inA === undefined ? '-' : ms(inA)]);
  }
  console.log(table(['model', 'n', 'check p50 ms', 'check p99 ms', 'model run p50 ms', `p50 <= ${TARGET_MS} ms`, 'p50 in (a), interleaved'], bundledRows));
}

async function windowSection(models: EncoderModel[]): Promise<void> {
  console.log('\n# (d) fine-grained windows: cost of scoring a document in small windows besides its segments\n');
  console.log("- one prose document per length (sentences, line breaks), as a document for Prompt Guard and a user turn for the content guard; result cache off; p50 ms per check, windows off vs the model's config.json fine_windows.max_tokens; alternating calls\n");
  const windowRows: (string | number)[][] = [];
  for (const name of ['prompt-guard-small', 'content-guard-small']) {
    const model = models.find((m) => m.bundled && path.basename(m.dir) === name);
    if (model) windowRows.push(...(await fineWindowCost(model)));
  }
  console.log(table(['model', 'tokens', 'segments + windows', 'segments only p50 ms', 'with windows p50 ms', 'ratio', 'n'], windowRows));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

/** @jest-environment ./test/integration/guards/support/onnxEnvironment.js */
/**
 * The ONNX worker thread (guards/onnx/ortHost.ts): inference runs off the event loop, the main
 * thread never loads onnxruntime-node (with inline runs off; inlineRuns.test.ts covers those),
 * and a crashed worker costs the pending checks an error
 * verdict, not the process. No timing thresholds: responsiveness is shown structurally.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { createContentEncoderGuard } from '../../../guards/contentEncoder';
import { EncoderClassifier } from '../../../guards/encoder/encoderClassifier';
import { createLlamaGuard, type LlamaGuardOnnxOptions } from '../../../guards/llamaGuard';
import { readDecoderModel } from '../../../guards/llamaGuard/onnx/modelFiles';
import { OnnxDecoder } from '../../../guards/llamaGuard/onnx/decoderClient';
import { onnxWorkersBusy, ortHost } from '../../../guards/onnx/ortHost';
import { createPromptGuard } from '../../../guards/promptGuard';
import type { GuardRequest } from '../../../guards/types';
import { CONTENT, filler, input, PG_V1, text } from './helpers';

const LLAMA_GUARD = path.join(__dirname, '../../fixtures/models/llama-guard-tiny');

/**
 * Counts setInterval ticks that fire while `work` is still pending. A run on the main thread
 * (onnxruntime-node's `run` is synchronous there, deferred once by setImmediate) lets at most one
 * timer phase pass before it blocks, and settles the promise before the next one can fire: three
 * or more ticks while pending are only possible when the run happens on another thread.
 */
async function ticksWhilePending<T>(work: Promise<T>): Promise<{ value: T; ticks: number }> {
  let settled = false;
  let ticks = 0;
  const timer = setInterval(() => {
    if (!settled) ticks++;
  }, 1);
  try {
    const value = await work;
    settled = true;
    return { value, ticks };
  } finally {
    clearInterval(timer);
  }
}

/** Runs ever larger single ONNX runs until one lasts long enough for the ticks to show. */
async function longestRunTicks(sizes: number[], run: (size: number) => Promise<unknown>): Promise<number> {
  let ticks = 0;
  for (const size of sizes) {
    ticks = (await ticksWhilePending(run(size))).ticks;
    if (ticks >= 3) break;
  }
  return ticks;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

describe('ONNX inference runs in the worker thread', () => {
  it('the event loop keeps turning while one large encoder batch runs', async () => {
    // One batch, one ONNX run: maxBatchSize holds every segment.
    // Inline runs off: this file checks what the worker does (and, below, that nothing else loaded onnxruntime here).
    const classifier = await EncoderClassifier.load({ modelDir: PG_V1, maxBatchSize: 8192, batchWaitMs: 0, inlineBudgetMs: 0 });
    try {
      const segment = classifier.segments(classifier.tokenizer.encodeIds(filler(510)));
      expect(segment).toHaveLength(1);
      expect(segment[0]).toHaveLength(512);
      const ticks = await longestRunTicks([256, 1024, 4096, 8192], async (rows) => {
        const out = await classifier.classify(Array.from({ length: rows }, () => segment[0]!));
        expect(out).toHaveLength(rows);
        expect(out[rows - 1]!.logits).toHaveLength(3);
      });
      expect(ticks).toBeGreaterThanOrEqual(3);
      expect(classifier.batchStats.largestBatch).toBeGreaterThanOrEqual(256);
    } finally {
      await classifier.close();
    }
  });

  it('the event loop keeps turning while one long decoder pass runs', async () => {
    const files = readDecoderModel(LLAMA_GUARD);
    const decoder = await OnnxDecoder.create(files.onnxPath, files.config);
    try {
      const ticks = await longestRunTicks([1024, 2048, 4096], async (n) => {
        const logits = await decoder.forwardFull(Array.from({ length: n }, (_, i) => 10 + (i % 400)));
        expect(logits).toHaveLength(512);
      });
      expect(ticks).toBeGreaterThanOrEqual(3);
    } finally {
      await decoder.close();
    }
  });

  it('with inline runs off, the main thread never loads onnxruntime-node', async () => {
    // jest loads native addons with Node's own require, so a main-thread load would add or
    // replace an entry here (other test files in this process may have loaded one already).
    const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
    const ortEntries = () => Object.entries(cache).filter(([f]) => /onnxruntime/.test(f));
    const before = ortEntries();
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, inlineBudgetMs: 0 });
    await guard.load();
    try {
      expect((await guard.check(input(text('user', 'hello zzjailbreak')))).label).toBe('JAILBREAK');
      expect(ortHost().stats).toMatchObject({ binding: 'private-copy' });
      expect(guard.stats()).toMatchObject({ inlineRuns: 0, inlineMaxTokens: 0 });
      const after = ortEntries();
      expect(after.map(([f]) => f)).toEqual(before.map(([f]) => f));
      after.forEach(([, mod], i) => expect(mod).toBe(before[i]![1]));
    } finally {
      await guard.close();
    }
  });

  it('stops the worker when the last session closes and starts a new one for the next', async () => {
    const before = ortHost().stats.starts;
    for (let i = 0; i < 2; i++) {
      const guard = createContentEncoderGuard({ name: 'cg', modelDir: CONTENT });
      await guard.load();
      const v = await guard.check({ direction: 'input', texts: [], conversation: [{ role: 'user', content: 'hello zzs1 world' }] });
      expect(v).toMatchObject({ label: 'unsafe', categories: ['S1'] });
      await guard.close();
      expect(ortHost().stats.sessions).toBe(0);
    }
    // Every worker of the pool opens the encoder session, so each cycle starts the whole pool.
    expect(ortHost().stats.starts).toBe(before + 2 * ortHost().poolSize);
  });

  it('closing sessions at once stops the worker cleanly, never mid-call', async () => {
    // Terminating the thread while it still releases a session aborts the whole process (a C++
    // Napi::Error nothing catches), which here would kill this test's process: before the fix,
    // one cycle in about fifty to a hundred. The worker must finish what runs and end by itself.
    const before = ortHost().stats;
    const model = (dir: string) => ({ kind: 'encoder' as const, file: path.join(dir, 'model.onnx'), sessionOptions: { intraOpNumThreads: 1 }, padId: 0 });
    const cycles = 100;
    for (let i = 0; i < cycles; i++) {
      const sessions = await Promise.all([PG_V1, CONTENT].map((dir) => ortHost().openSession(model(dir))));
      await Promise.all(sessions.map((s) => s.close()));
      expect(ortHost().stats.sessions).toBe(0);
    }
    expect(ortHost().stats).toMatchObject({ crashes: before.crashes, cleanStops: before.cleanStops + cycles * ortHost().poolSize, forcedStops: before.forcedStops });
  });

  it('closing a decoder mid-generation: the call settles and the worker still ends by itself', async () => {
    const before = ortHost().stats;
    const files = readDecoderModel(LLAMA_GUARD);
    const decoder = await OnnxDecoder.create(files.onnxPath, files.config);
    const long = decoder.generate([1, 2, 3], { maxNewTokens: 2000, stopIds: [] }).then(
      () => 'finished',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 5)); // the generation is running in the worker
    await decoder.close();
    expect(['finished', 'failed']).toContain(await long);
    expect(ortHost().stats).toMatchObject({ sessions: 0, crashes: before.crashes, cleanStops: before.cleanStops + 1, forcedStops: before.forcedStops });
  });
});

describe('a worker crash', () => {
  it('turns the pending Prompt Guard checks into model_error verdicts; the next check works', async () => {
    // Batches of 8 segments: many still to come when the worker dies, and each long enough that the
    // crash lands inside one (with one segment per batch a loaded machine could crash the worker
    // between two calls, failing nothing). Inline runs off: every segment goes through a worker.
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, maxBatchSize: 8, cacheSize: 0, timeoutMs: 60_000, inlineBudgetMs: 0 });
    await guard.load();
    const crashes = ortHost().stats.crashes;
    try {
      const pending = guard.check(input(text('document', filler(30_000))));
      await until(() => guard.stats().batches > 0);
      await ortHost().crashWorkerForTesting({ duringCall: true });
      const failed = await pending;
      expect(failed).toMatchObject({ label: 'error', error: { type: 'model_error' } });
      expect(failed.error?.message).toMatch(/ONNX worker thread stopped/);
      expect(ortHost().stats.crashes).toBe(crashes + 1);

      const next = await guard.check(input(text('user', 'hello zzjailbreak world')));
      expect(next.error).toBeUndefined();
      expect(next.label).toBe('JAILBREAK');
    } finally {
      await guard.close();
    }
  });

  it('a restarted worker does not reopen a model file replaced since it was loaded: an error verdict until a reload', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-replaced-'));
    fs.cpSync(PG_V1, dir, { recursive: true });
    const guard = createPromptGuard({ name: 'pg', modelDir: dir, cacheSize: 0, rowCacheSize: 0, timeoutMs: 60_000, inlineBudgetMs: 0 });
    await guard.load();
    try {
      expect((await guard.check(input(text('user', 'hello zzjailbreak world')))).label).toBe('JAILBREAK');
      // Other weights under the same name (the content guard's tiny fixture), then the workers restart
      // (every one of the pool: a worker still running keeps the weights it loaded, and may take the call).
      fs.copyFileSync(path.join(CONTENT, 'model.onnx'), path.join(dir, 'model.onnx'));
      for (let i = 0; i < ortHost().poolSize; i++) await ortHost().crashWorkerForTesting();
      const after = await guard.check(input(text('user', 'hello zzjailbreak world')));
      expect(after).toMatchObject({ label: 'error', error: { type: 'model_error' } });
      expect(after.error?.message).toMatch(/changed on disk since it was loaded/);
    } finally {
      await guard.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns a pending Llama Guard check into a model_error verdict; the next check works', async () => {
    // No stop ids and a high cap: the decoding loop is still running when the worker dies.
    const options: LlamaGuardOnnxOptions = { backend: 'onnx', name: 'lg', variant: '1b', modelDir: LLAMA_GUARD, stopTokenIds: [], maxNewTokens: 5000, timeoutMs: 60_000 };
    const guard = createLlamaGuard(options);
    await guard.load();
    const request: GuardRequest = { direction: 'input', texts: [], conversation: [{ role: 'user', content: 'How do I bake a cake?' }] };
    try {
      const pending = guard.check(request);
      await new Promise((r) => setTimeout(r, 1)); // the classify call is posted
      await ortHost().crashWorkerForTesting();
      const failed = await pending;
      expect(failed).toMatchObject({ label: 'error', error: { type: 'model_error' } });
      expect(failed.error?.message).toMatch(/ONNX worker thread stopped/);

      const short = createLlamaGuard({ ...options, maxNewTokens: 4 });
      await short.load();
      const next = await short.check(request);
      await short.close();
      // Random weights: the answer is unreadable, but it is an answer, not a runtime failure.
      expect(next.error?.type).toBe('parse_error');
    } finally {
      await guard.close();
    }
  });

  it('rejects a pending decoder call; the same decoder reopens in the new worker', async () => {
    const files = readDecoderModel(LLAMA_GUARD);
    const decoder = await OnnxDecoder.create(files.onnxPath, files.config);
    try {
      const reference = await decoder.forwardFull([1, 2, 3]);
      const long = decoder.generate([1, 2, 3], { maxNewTokens: 100_000, stopIds: [] });
      await ortHost().crashWorkerForTesting();
      await expect(long).rejects.toThrow(/ONNX worker thread stopped/);
      expect(Array.from(await decoder.forwardFull([1, 2, 3]))).toEqual(Array.from(reference));
    } finally {
      await decoder.close();
    }
  });

  it('an aborted decoder call rejects at once, and the decoder keeps working', async () => {
    const files = readDecoderModel(LLAMA_GUARD);
    const decoder = await OnnxDecoder.create(files.onnxPath, files.config);
    try {
      const controller = new AbortController();
      const long = decoder.generate([1, 2, 3], { maxNewTokens: 100_000, stopIds: [], signal: controller.signal });
      setTimeout(() => controller.abort(new Error('deadline')), 5);
      await expect(long).rejects.toThrow('deadline');
      // Rejected at once, but the worker is still in the model until the cancel lands between steps:
      // a forced exit now would abort the process (gateway/cli/serveCommand.ts reads this).
      expect(onnxWorkersBusy()).toBeGreaterThan(0);
      await until(() => onnxWorkersBusy() === 0);
      expect(await decoder.forwardFull([1, 2, 3])).toHaveLength(512);
    } finally {
      await decoder.close();
    }
  });
});

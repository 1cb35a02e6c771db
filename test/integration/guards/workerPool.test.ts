/** @jest-environment ./test/integration/guards/support/onnxEnvironment.js */
/**
 * The pool of ONNX workers (guards/onnx/ortHost.ts): a long input's batches spread over every
 * worker with the same scores as one worker gives, rows of different widths run in groups with
 * the same outputs as alone, decoders stay in one worker, a crashed worker costs only its own
 * calls, and the pool can shrink under open sessions. Real ONNX fixture models; no timing.
 */
import * as path from 'node:path';
import { EncoderClassifier } from '../../../guards/encoder/encoderClassifier';
import { readDecoderModel } from '../../../guards/llamaGuard/onnx/modelFiles';
import { OnnxDecoder } from '../../../guards/llamaGuard/onnx/decoderClient';
import { ortHost } from '../../../guards/onnx/ortHost';
import { createPromptGuard } from '../../../guards/promptGuard';
import { CONTENT, filler, input, PG_V1, text } from './helpers';
import { createContentEncoderGuard } from '../../../guards/contentEncoder';

const LLAMA_GUARD = path.join(__dirname, '../../fixtures/models/llama-guard-tiny');

/** A document of `n` words with the jailbreak marker in the middle. */
function documentWithMarker(n: number): string {
  return `${filler(n / 2)} zzjailbreak ${filler(n / 2)}`;
}

async function scan(workers: number, doc: string) {
  ortHost().configure({ workers });
  const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, cacheSize: 0, maxBatchSize: 4, inlineBudgetMs: 0, timeoutMs: 60_000 });
  await guard.load();
  const before = ortHost().stats.callsPerWorker;
  try {
    const verdict = await guard.check(input(text('document', doc)));
    const after = ortHost().stats.callsPerWorker;
    return { verdict, calls: after.map((n, i) => n - (before[i] ?? 0)), batches: guard.stats().batches };
  } finally {
    await guard.close();
  }
}

describe('the ONNX worker pool', () => {
  afterAll(() => ortHost().configure({ workers: 2 }));

  it("spreads a long input's batches over every worker, with the scores one worker gives", async () => {
    const doc = documentWithMarker(24_000);
    const one = await scan(1, doc);
    const two = await scan(2, doc);
    expect(two.verdict.error).toBeUndefined();
    expect(two.verdict).toMatchObject({ label: 'INJECTION', segmentsScanned: one.verdict.segmentsScanned, worstPath: 'messages[0].content' });
    expect(two.verdict.score).toBe(one.verdict.score);
    expect(one.calls.filter((n) => n > 0)).toHaveLength(1);
    // About 95 segments in runs of 4: both workers busy.
    expect(two.batches).toBeGreaterThan(20);
    expect(two.calls).toHaveLength(2);
    // Each batch goes to the worker with fewer calls pending: both run some (how many depends on
    // what else the machine runs).
    for (const n of two.calls) expect(n).toBeGreaterThan(0);
    expect(two.calls[0]! + two.calls[1]!).toBe(two.batches);
  });

  it('two guards scanning at once both finish, on both workers', async () => {
    ortHost().configure({ workers: 2 });
    const pg = createPromptGuard({ name: 'pg', modelDir: PG_V1, cacheSize: 0, inlineBudgetMs: 0, timeoutMs: 60_000 });
    const cg = createContentEncoderGuard({ name: 'cg', modelDir: CONTENT, cacheSize: 0, inlineBudgetMs: 0, timeoutMs: 60_000 });
    await pg.load();
    await cg.load();
    try {
      const [a, b] = await Promise.all([
        pg.check(input(text('user', documentWithMarker(8_000)))),
        cg.check({ direction: 'input', texts: [], conversation: [{ role: 'user', content: `${filler(8_000)} zzs9` }] }),
      ]);
      expect(a).toMatchObject({ label: 'JAILBREAK' });
      expect(b).toMatchObject({ label: 'unsafe', categories: ['S9'] });
      expect(ortHost().stats.workers).toBe(2);
    } finally {
      await pg.close();
      await cg.close();
    }
  });

  it('runs rows of very different widths in groups, each with the outputs it has alone', async () => {
    ortHost().configure({ workers: 2 });
    const classifier = await EncoderClassifier.load({ modelDir: PG_V1, maxBatchSize: 64, inlineBudgetMs: 0 });
    try {
      const ids = classifier.tokenizer.encodeIds(`${filler(600)} zzjailbreak`);
      const rows = [classifier.segments(ids)[0]!, ...classifier.segments(classifier.tokenizer.encodeIds('hello zzinject')), classifier.segments(ids)[1]!, ...classifier.segments(classifier.tokenizer.encodeIds('the weather today'))];
      expect(new Set(rows.map((r) => r.length)).size).toBeGreaterThan(2);
      const together = await classifier.classify(rows);
      for (let i = 0; i < rows.length; i++) {
        const [alone] = await classifier.classify([rows[i]!]);
        Array.from(together[i]!.logits).forEach((v, k) => expect(v).toBeCloseTo(alone!.logits[k]!, 5));
      }
    } finally {
      await classifier.close();
    }
  });

  it('keeps a decoder in the first worker only', async () => {
    ortHost().configure({ workers: 2 });
    const files = readDecoderModel(LLAMA_GUARD);
    const decoder = await OnnxDecoder.create(files.onnxPath, files.config);
    try {
      expect(ortHost().stats.workers).toBe(1);
      await Promise.all([decoder.forwardFull([1, 2, 3]), decoder.forwardFull([4, 5, 6])]);
      expect(ortHost().stats.workers).toBe(1);
    } finally {
      await decoder.close();
    }
  });

  it("a crashed worker fails only its own calls; the pool replaces it", async () => {
    ortHost().configure({ workers: 2 });
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, maxBatchSize: 1, cacheSize: 0, timeoutMs: 60_000, inlineBudgetMs: 0 });
    await guard.load();
    const { crashes, starts } = ortHost().stats;
    try {
      const pending = guard.check(input(text('document', filler(30_000))));
      while (guard.stats().batches < 4) await new Promise((r) => setImmediate(r));
      await ortHost().crashWorkerForTesting();
      const failed = await pending;
      expect(failed).toMatchObject({ label: 'error', error: { type: 'model_error' } });
      expect(ortHost().stats.crashes).toBe(crashes + 1);
      const next = await guard.check(input(text('user', 'hello zzjailbreak world')));
      expect(next.label).toBe('JAILBREAK');
      // Enough runs to reach both places of the pool: the dead worker's is filled again.
      expect((await guard.check(input(text('document', documentWithMarker(4_000))))).label).toBe('INJECTION');
      expect(ortHost().stats).toMatchObject({ starts: starts + 1, workers: 2 });
    } finally {
      await guard.close();
    }
  });

  it('shrinks under open sessions: the surplus worker stops cleanly, checks go on', async () => {
    ortHost().configure({ workers: 2 });
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, cacheSize: 0, inlineBudgetMs: 0 });
    await guard.load();
    const before = ortHost().stats;
    try {
      expect(before.workers).toBe(2);
      ortHost().configure({ workers: 1 });
      while (ortHost().stats.workers > 1) await new Promise((r) => setTimeout(r, 5));
      expect(ortHost().stats).toMatchObject({ poolSize: 1, crashes: before.crashes, forcedStops: before.forcedStops });
      expect((await guard.check(input(text('user', 'zzjailbreak')))).label).toBe('JAILBREAK');
      expect(() => ortHost().configure({ workers: 0 })).toThrow(/at least one worker/);
    } finally {
      await guard.close();
    }
  });
});

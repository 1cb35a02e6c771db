/** @jest-environment ./test/integration/guards/support/onnxEnvironment.js */
/**
 * Inline runs (guards/onnx/inlineEncoder.ts): a lone short segment is scored on the main thread,
 * on a second session of the same model, instead of paying two thread hops to the worker.
 * Checked here: the scores are the worker's, exactly; only lone segments within the measured
 * length go inline (batches and long segments go to the worker); the measurement, the size cap
 * and `0` turn it off; a dead worker does not affect inline checks; closing waits for a run.
 */
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GatewayConfig } from '../../../gateway/config';
import { createGuardFromSpec } from '../../../gateway/pipeline/runtime/guardFactory';
import { guardSettingsFrom } from '../../../gateway/pipeline/runtime/guardSettings';
import { createPromptGuard, type PromptGuard } from '../../../guards/promptGuard';
import type { GuardSpec } from '../../../policies/schema';
import { EncoderClassifier } from '../../../guards/encoder/encoderClassifier';
import { InlineEncoder } from '../../../guards/onnx/inlineEncoder';
import { ortHost } from '../../../guards/onnx/ortHost';
import { readModelDirectory } from '../../../guards/modelDirectory';
import { filler, input, PG_V1, text } from './helpers';

describe('inline runs', () => {
  it('give exactly the scores the worker gives', async () => {
    const inline = await EncoderClassifier.load({ modelDir: PG_V1, inlineMaxTokens: 512 });
    const worker = await EncoderClassifier.load({ modelDir: PG_V1, inlineBudgetMs: 0 });
    try {
      for (const t of ['hello world', 'please zzjailbreak now', filler(300)]) {
        const segments = inline.segments(inline.tokenizer.encodeIds(t));
        expect(segments).toHaveLength(1);
        const [a] = await inline.classify(segments);
        const [b] = await worker.classify(segments);
        expect(Array.from(a!.logits)).toEqual(Array.from(b!.logits));
      }
      expect(inline.runStats).toMatchObject({ inlineRuns: 3, workerRuns: 1, inlineMaxTokens: 512 }); // the worker run: load's label check
      expect(worker.runStats).toMatchObject({ inlineRuns: 0, workerRuns: 4, inlineMaxTokens: 0 });
    } finally {
      await inline.close();
      await worker.close();
    }
  });

  it('take only a lone segment within the length; longer ones and batches go to the worker', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, inlineMaxTokens: 32, cacheSize: 0, maxBatchSize: 8, batchWaitMs: 50 });
    await guard.load();
    try {
      const base = guard.stats();
      expect((await guard.check(input(text('user', 'hello zzjailbreak')))).label).toBe('JAILBREAK');
      expect(guard.stats()).toMatchObject({ inlineRuns: base.inlineRuns + 1, workerRuns: base.workerRuns });

      expect((await guard.check(input(text('user', filler(100))))).label).toBe('BENIGN');
      expect(guard.stats()).toMatchObject({ inlineRuns: base.inlineRuns + 1, workerRuns: base.workerRuns + 1 });

      // Four concurrent short checks share one batch (batchWaitMs holds it open): the worker runs it.
      const verdicts = await Promise.all([1, 2, 3, 4].map((i) => guard.check(input(text('user', `hello ${i}`)))));
      expect(verdicts.map((v) => v.label)).toEqual(['BENIGN', 'BENIGN', 'BENIGN', 'BENIGN']);
      const after = guard.stats();
      expect(after.largestBatch).toBe(4);
      expect(after).toMatchObject({ inlineRuns: base.inlineRuns + 1, workerRuns: base.workerRuns + 2, inlineMaxTokens: 32 });
    } finally {
      await guard.close();
    }
  });

  it('are measured at load: some length fits a generous budget, none fits a tiny one, 0 turns them off', async () => {
    const directory = readModelDirectory(PG_V1);
    const common = { file: directory.onnxPath, sessionOptions: { intraOpNumThreads: 1 }, padId: 0, frame: [1, 2], maxLength: directory.maxLength };
    const generous = await InlineEncoder.open({ ...common, budgetMs: 10_000 });
    expect(generous.encoder?.maxTokens).toBe(512); // the widest width tried: the model's window
    await generous.encoder?.close();
    const tiny = await InlineEncoder.open({ ...common, budgetMs: 1e-6 });
    expect(tiny.encoder).toBeUndefined();
    expect(tiny.reason).toMatch(/no run fits the 0.000001 ms budget/);
    const off = await InlineEncoder.open({ ...common, budgetMs: 0 });
    expect(off).toEqual({ reason: 'inline runs are off (budget 0)' });
  });

  it('keep no second session of a large model file', async () => {
    const directory = readModelDirectory(PG_V1);
    const opened = await InlineEncoder.open({
      file: directory.onnxPath,
      sessionOptions: {},
      padId: 0,
      frame: [1, 2],
      maxLength: 512,
      budgetMs: 1.5,
      maxModelBytes: 1024,
    });
    expect(opened.encoder).toBeUndefined();
    expect(opened.reason).toMatch(/a second session is kept only for models up to 0 MB/);
  });

  it('count the external-data file of a large export towards that size', async () => {
    const directory = readModelDirectory(PG_V1);
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-inline-'));
    try {
      const file = path.join(dir, 'model.onnx');
      copyFileSync(directory.onnxPath, file);
      const common = { file, sessionOptions: {}, padId: 0, frame: [1, 2], maxLength: 512, budgetMs: 0, maxTokens: 64, maxModelBytes: statSync(file).size + 1024 };
      const alone = await InlineEncoder.open(common);
      expect(alone.encoder?.maxTokens).toBe(64);
      await alone.encoder?.close();
      writeFileSync(path.join(dir, 'model.onnx_data'), Buffer.alloc(4096));
      const withData = await InlineEncoder.open(common);
      expect(withData.encoder).toBeUndefined();
      expect(withData.reason).toMatch(/a second session is kept only for models up to/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keep working while the worker is dead, and the next long check restarts it', async () => {
    const guard = createPromptGuard({ name: 'pg', modelDir: PG_V1, inlineMaxTokens: 64, cacheSize: 0 });
    await guard.load();
    try {
      const crashes = ortHost().stats.crashes;
      await ortHost().crashWorkerForTesting();
      expect(ortHost().stats.crashes).toBe(crashes + 1);
      expect((await guard.check(input(text('user', 'hello zzjailbreak')))).label).toBe('JAILBREAK');
      const long = await guard.check(input(text('document', `${filler(200)} zzjailbreak`)));
      expect(long.error).toBeUndefined();
      expect(long.label).toBe('INJECTION');
    } finally {
      await guard.close();
    }
  });

  it('close() waits for a run in progress before releasing its session', async () => {
    const directory = readModelDirectory(PG_V1);
    const { encoder } = await InlineEncoder.open({ file: directory.onnxPath, sessionOptions: {}, padId: 0, frame: [1, 2], maxLength: 512, budgetMs: 0, maxTokens: 512 });
    // onnxruntime starts the run at the next turn; close() is called before that.
    const running = encoder!.run([[1, ...new Array<number>(300).fill(5), 2]]);
    await encoder!.close();
    const outputs = await running;
    expect(outputs.logits!.dims).toEqual([1, 3]);
  });
});

describe('gateway config guards.*', () => {
  const spec = { type: 'prompt_guard', model: PG_V1, timeout_ms: 5000, temperature: 1 } as unknown as GuardSpec;

  it('inline_budget_ms reaches the guards: 0 keeps every run in the worker, a budget measures a length', async () => {
    expect(GatewayConfig.parse({}).guards).toMatchObject({ inline_budget_ms: 2, batch_size: 16, batch_wait_ms: 0 });
    const off = createGuardFromSpec('pg', spec, guardSettingsFrom(GatewayConfig.parse({ guards: { inline_budget_ms: 0 } }).guards)) as PromptGuard;
    const measured = createGuardFromSpec('pg', spec, guardSettingsFrom(GatewayConfig.parse({ guards: { inline_budget_ms: 20 } }).guards)) as PromptGuard;
    await off.load();
    await measured.load();
    try {
      expect((await off.check(input(text('user', 'hello')))).label).toBe('BENIGN');
      expect(off.stats()).toMatchObject({ inlineRuns: 0, inlineMaxTokens: 0 });
      // 20 ms: the tiny fixture's 8-token run fits on any machine, however loaded.
      expect(measured.stats().inlineMaxTokens).toBeGreaterThanOrEqual(8);
    } finally {
      await off.close();
      await measured.close();
    }
  });

  it('refuses settings outside their range with the key named', () => {
    const parsed = GatewayConfig.safeParse({ guards: { inline_budget_ms: -1, batch_size: 0 } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['guards.batch_size', 'guards.inline_budget_ms']);
  });
});

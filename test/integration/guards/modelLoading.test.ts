/** @jest-environment ./test/integration/guards/support/onnxEnvironment.js */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createContentEncoderGuard } from '../../../guards/contentEncoder';
import { EncoderClassifier } from '../../../guards/encoder/encoderClassifier';
import { readModelDirectory } from '../../../guards/modelDirectory';
import { createPromptGuard } from '../../../guards/promptGuard';
import { input, PG_V1, text } from './helpers';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-model-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of a fixture directory, optionally edited, to break one thing at a time. */
function copyModel(from = PG_V1): string {
  const dir = path.join(tmp, 'model');
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

function editJson(file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json));
}

describe('model directory checks', () => {
  it('reads the fixture: labels, ONNX path, max length 512', () => {
    const d = readModelDirectory(PG_V1);
    expect(d.config.labels).toEqual(['BENIGN', 'INJECTION', 'JAILBREAK']);
    expect(d.onnxPath).toBe(path.join(PG_V1, 'model.onnx'));
    expect(d.maxLength).toBe(512);
    expect(d.config.typeVocabSize).toBe(0);
  });

  it.each(['config.json', 'tokenizer.json', 'tokenizer_config.json'])('names a missing %s', (name) => {
    const dir = copyModel();
    fs.rmSync(path.join(dir, name));
    expect(() => readModelDirectory(dir)).toThrow(new RegExp(`no ${name.replace('.', '\\.')}`));
  });

  it('names a missing ONNX file and says how to get one', () => {
    const dir = copyModel();
    fs.rmSync(path.join(dir, 'model.onnx'));
    expect(() => readModelDirectory(dir)).toThrow(/model\.onnx.*optimum-cli export onnx/);
  });

  it('finds onnx/model_<variant>.onnx, and lists what exists when the variant is missing', async () => {
    const dir = copyModel();
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.renameSync(path.join(dir, 'model.onnx'), path.join(dir, 'onnx', 'model_quantized.onnx'));
    expect(readModelDirectory(dir, { variant: 'quantized' }).onnxPath).toBe(path.join(dir, 'onnx', 'model_quantized.onnx'));
    expect(() => readModelDirectory(dir, { variant: 'fp16' })).toThrow(/onnx\/model_quantized\.onnx/);
    const guard = createPromptGuard({ name: 'pg', modelDir: dir, variant: 'quantized' });
    await guard.load();
    try {
      expect(guard.model).toBe('model:quantized');
      expect((await guard.check(input(text('user', 'zzjailbreak')))).label).toBe('JAILBREAK');
    } finally {
      await guard.close();
    }
  });

  it('rejects a non-JSON config (e.g. a Git LFS pointer)', () => {
    const dir = copyModel();
    fs.writeFileSync(path.join(dir, 'config.json'), 'version https://git-lfs.github.com/spec/v1\n');
    expect(() => readModelDirectory(dir)).toThrow(/config\.json is not valid JSON/);
  });

  it('rejects a missing or gapped id2label', () => {
    const dir = copyModel();
    editJson(path.join(dir, 'config.json'), (c) => delete c.id2label);
    expect(() => readModelDirectory(dir)).toThrow(/no id2label/);
    editJson(path.join(dir, 'config.json'), (c) => (c.id2label = { 0: 'A', 2: 'B' }));
    expect(() => readModelDirectory(dir)).toThrow(/indices 0\.\.1/);
  });

  it('takes the window from model_max_length capped by max_position_embeddings', () => {
    const dir = copyModel();
    editJson(path.join(dir, 'tokenizer_config.json'), (c) => (c.model_max_length = 1e30));
    expect(readModelDirectory(dir).maxLength).toBe(512);
    editJson(path.join(dir, 'tokenizer_config.json'), (c) => (c.model_max_length = 256));
    expect(readModelDirectory(dir).maxLength).toBe(256);
    expect(readModelDirectory(dir, { maxLength: 128 }).maxLength).toBe(128);
  });
});

describe('checks that need the model', () => {
  it('refuses labels that do not match the logits width (found by a test run)', async () => {
    const dir = copyModel();
    editJson(path.join(dir, 'config.json'), (c) => (c.id2label = { 0: 'BENIGN', 1: 'INJECTION', 2: 'JAILBREAK', 3: 'OTHER' }));
    await expect(EncoderClassifier.load({ modelDir: dir })).rejects.toThrow(/names 4 labels .* outputs 3 logits/);
  });

  it('refuses a corrupt ONNX file with advice', async () => {
    const dir = copyModel();
    fs.writeFileSync(path.join(dir, 'model.onnx'), 'not a model');
    await expect(EncoderClassifier.load({ modelDir: dir })).rejects.toThrow(/onnxruntime could not load .*Git LFS/);
  });

  it('refuses 3 labels that are not Prompt Guard 1\'s', async () => {
    const dir = copyModel();
    editJson(path.join(dir, 'config.json'), (c) => (c.id2label = { 0: 'A', 1: 'B', 2: 'C' }));
    await expect(createPromptGuard({ name: 'pg', modelDir: dir }).load()).rejects.toThrow(/BENIGN, INJECTION and JAILBREAK/);
  });

  it('refuses a content guard whose labels have no "unsafe"', async () => {
    await expect(createContentEncoderGuard({ name: 'lg', modelDir: PG_V1 }).load()).rejects.toThrow(/no "unsafe" label/);
  });

  it('a session is shared by concurrent checks: batches fill from several requests', async () => {
    const classifier = await EncoderClassifier.load({ modelDir: PG_V1, batchWaitMs: 20, maxBatchSize: 16 });
    try {
      const seg = classifier.segments(classifier.tokenizer.encodeIds('hello zzinject'));
      const results = await Promise.all(Array.from({ length: 5 }, () => classifier.classify(seg)));
      expect(results.every((r) => r.length === 1 && r[0].logits.length === 3)).toBe(true);
      expect(classifier.batchStats).toMatchObject({ batches: 1, inputs: 5, largestBatch: 5 });
    } finally {
      await classifier.close();
    }
  });
});

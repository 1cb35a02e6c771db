/**
 * The KV-cache decoder against the tiny random-weight fixture: cached decoding must give the same
 * logits as a full forward pass without a cache, and both must match the PyTorch reference. The
 * cache lives in the ONNX worker thread: `forwardChunks` feeds chunks through one cache there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDecoderModel } from '../../../guards/llamaGuard/onnx/modelFiles';
import { argmax, checkDecoderSignature, lastRow, OnnxDecoder, pastNames, presentNames } from '../../../guards/llamaGuard/onnx/decoderClient';

const FIXTURE = path.join(__dirname, '../../fixtures/models/llama-guard-tiny');

interface Reference {
  atol: number;
  input_ids: number[];
  last_logits: number[];
  greedy_next_ids: number[];
}
const ref = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8')) as Reference;
const TOL = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('OnnxDecoder on llama-guard-tiny', () => {
  let decoder: OnnxDecoder;
  beforeAll(async () => {
    const files = readDecoderModel(FIXTURE);
    decoder = await OnnxDecoder.create(files.onnxPath, files.config);
  });
  afterAll(() => decoder.close());

  it('full forward without cache equals reference.json last_logits', async () => {
    const logits = await decoder.forwardFull(ref.input_ids);
    expect(logits.length).toBe(ref.last_logits.length);
    expect(maxAbsDiff(logits, ref.last_logits)).toBeLessThan(Math.min(TOL, ref.atol));
  });

  it('prefix then one token at a time through the KV cache equals the full forward', async () => {
    const full = await decoder.forwardFull(ref.input_ids);
    const steps = await decoder.forwardChunks([ref.input_ids.slice(0, 5), ...ref.input_ids.slice(5).map((id) => [id])]);
    expect(steps).toHaveLength(1 + ref.input_ids.length - 5);
    const last = steps[steps.length - 1]!;
    expect(maxAbsDiff(last, full)).toBeLessThan(TOL);
    expect(maxAbsDiff(last, ref.last_logits)).toBeLessThan(ref.atol);
  });

  it('a multi-token chunk on top of a cache equals the full forward too', async () => {
    const [, rest] = await decoder.forwardChunks([ref.input_ids.slice(0, 4), ref.input_ids.slice(4)]);
    expect(maxAbsDiff(rest!, ref.last_logits)).toBeLessThan(ref.atol);
  });

  it('every intermediate cached position matches its own full forward', async () => {
    const steps = await decoder.forwardChunks(ref.input_ids.map((id) => [id]));
    for (let n = 1; n <= ref.input_ids.length; n++) {
      expect(maxAbsDiff(steps[n - 1]!, await decoder.forwardFull(ref.input_ids.slice(0, n)))).toBeLessThan(TOL);
    }
  });

  it('greedy decoding with and without the cache reproduces greedy_next_ids', async () => {
    const n = ref.greedy_next_ids.length;
    const cached = await decoder.generate(ref.input_ids, { maxNewTokens: n, stopIds: [] });
    const uncached = await decoder.generate(ref.input_ids, { maxNewTokens: n, stopIds: [], useCache: false });
    expect(cached).toEqual({ ids: ref.greedy_next_ids, stoppedBy: 'limit' });
    expect(uncached).toEqual(cached);
    expect(argmax(ref.last_logits)).toBe(ref.greedy_next_ids[0]);
  });

  it('stops before a stop id and at the token limit', async () => {
    const greedy = ref.greedy_next_ids;
    // The first position whose token has not appeared before, so stopping on it cuts exactly there.
    const k = greedy.findIndex((id, i) => i > 0 && !greedy.slice(0, i).includes(id));
    expect(k).toBeGreaterThan(0);
    const stopped = await decoder.generate(ref.input_ids, { maxNewTokens: 20, stopIds: [greedy[k]!] });
    expect(stopped).toEqual({ ids: greedy.slice(0, k), stoppedBy: 'stop' });
    expect(await decoder.generate(ref.input_ids, { maxNewTokens: 2, stopIds: [] })).toEqual({ ids: greedy.slice(0, 2), stoppedBy: 'limit' });
    expect(await decoder.generate(ref.input_ids, { maxNewTokens: 5, stopIds: [greedy[0]!] })).toEqual({ ids: [], stoppedBy: 'stop' });
  });
});

describe('decoder helpers', () => {
  const config = { numLayers: 2, numKvHeads: 2, headDim: 4, eosTokenIds: [1] };

  it('accepts an Optimum / transformers.js signature and names what is missing', () => {
    const inputs = ['input_ids', 'attention_mask', 'position_ids', ...pastNames(2)];
    const outputs = ['logits', ...presentNames(2)];
    expect(() => checkDecoderSignature('m.onnx', config, inputs, outputs)).not.toThrow();
    expect(() => checkDecoderSignature('m.onnx', config, ['input_ids', 'attention_mask'], ['logits'])).toThrow(
      /missing input past_key_values\.0\.key, input past_key_values\.0\.value/,
    );
    expect(() => checkDecoderSignature('m.onnx', config, inputs, ['logits'])).toThrow(/output present\.0\.key/);
  });

  it('reads the last row of [1, seq, vocab] logits, widening float16 bits', () => {
    // Plain tensor-shaped objects: the main thread never loads onnxruntime-node.
    const f32 = { type: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [1, 2, 3] };
    expect(Array.from(lastRow(f32))).toEqual([4, 5, 6]);
    // 0x3c00 = 1.0, 0xc000 = -2.0, 0x3800 = 0.5 in IEEE half precision
    const f16 = { type: 'float16', data: Uint16Array.from([0, 0, 0, 0x3c00, 0xc000, 0x3800]), dims: [1, 2, 3] };
    expect(Array.from(lastRow(f16))).toEqual([1, -2, 0.5]);
  });
});

/**
 * A causal-LM decoder exported by Optimum / transformers.js, run with onnxruntime-node and a KV
 * cache. Inputs: input_ids, attention_mask, position_ids (= cumsum(mask) - 1), and
 * past_key_values.{i}.key/.value (zero-length on the first call); outputs: logits and
 * present.{i}.key/.value, which become the next call's past.
 *
 * One request at a time per cache, batch of one: a guard check is one conversation, and
 * onnxruntime-node runs the session on its own threads so the event loop stays free.
 */
import * as ort from 'onnxruntime-node';
import { widenFloat16 } from '../onnx/float16';
import type { DecoderConfig } from './decoderModel';

/** The past key/value tensors after some tokens, keyed by input name (`past_key_values.0.key`, ...). */
export interface KvCache {
  /** Tokens already in the cache. */
  length: number;
  tensors: Record<string, ort.Tensor>;
}

export interface StepResult {
  /** Logits at the last position fed (the distribution of the next token). */
  lastLogits: Float32Array;
  /** The cache including every token fed so far. */
  cache: KvCache;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** Generation stops before emitting any of these. */
  stopIds: ReadonlySet<number> | readonly number[];
  /** false: every token reruns the whole sequence with no cache (reference / benchmark only). */
  useCache?: boolean;
}

export interface GenerateResult {
  ids: number[];
  stoppedBy: 'stop' | 'limit';
}

export interface OnnxDecoderOptions {
  kvDtype?: 'float32' | 'float16';
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

/** Input / output names the session must have; checked on load so a wrong export fails with a clear message. */
export function checkDecoderSignature(file: string, config: DecoderConfig, inputNames: readonly string[], outputNames: readonly string[]): void {
  const needIn = ['input_ids', 'attention_mask', ...pastNames(config.numLayers)];
  const needOut = ['logits', ...presentNames(config.numLayers)];
  const missingIn = needIn.filter((n) => !inputNames.includes(n));
  const missingOut = needOut.filter((n) => !outputNames.includes(n));
  if (missingIn.length || missingOut.length) {
    throw new Error(
      `${file} is not a decoder export with a KV cache for ${config.numLayers} layers: missing ` +
        `${[...missingIn.map((n) => `input ${n}`), ...missingOut.map((n) => `output ${n}`)].slice(0, 6).join(', ')}` +
        ` (inputs: ${inputNames.join(', ')}). Export with Optimum (task text-generation-with-past) or use an onnx-community export.`,
    );
  }
}

export function pastNames(numLayers: number): string[] {
  return Array.from({ length: numLayers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
}

export function presentNames(numLayers: number): string[] {
  return Array.from({ length: numLayers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export class OnnxDecoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly config: DecoderConfig,
    private readonly kvDtype: 'float32' | 'float16',
    private readonly feedPositionIds: boolean,
    private readonly feedUseCacheBranch: boolean,
  ) {}

  static async create(onnxPath: string, config: DecoderConfig, options: OnnxDecoderOptions = {}): Promise<OnnxDecoder> {
    const session = await ort.InferenceSession.create(onnxPath, options.sessionOptions ?? {});
    try {
      checkDecoderSignature(onnxPath, config, session.inputNames, session.outputNames);
    } catch (err) {
      await session.release();
      throw err;
    }
    return new OnnxDecoder(
      session,
      config,
      options.kvDtype ?? 'float32',
      session.inputNames.includes('position_ids'),
      // Optimum's merged decoders switch between their with-past and without-past branches on this flag.
      session.inputNames.includes('use_cache_branch'),
    );
  }

  emptyCache(): KvCache {
    const dims = [1, this.config.numKvHeads, 0, this.config.headDim];
    const tensors: Record<string, ort.Tensor> = {};
    for (const name of pastNames(this.config.numLayers)) {
      tensors[name] =
        this.kvDtype === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
    return { length: 0, tensors };
  }

  /** Feeds `ids` after what `cache` holds; returns the next-token logits and the extended cache. */
  async forward(ids: readonly number[], cache: KvCache): Promise<StepResult> {
    if (ids.length === 0) throw new Error('forward needs at least one token');
    const total = cache.length + ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(ids),
      // No padding in a batch of one: the mask is all ones, so cumsum(mask) - 1 is the absolute position.
      attention_mask: int64Tensor(new Array<number>(total).fill(1)),
      ...cache.tensors,
    };
    if (this.feedPositionIds) feeds.position_ids = int64Tensor(ids.map((_, i) => cache.length + i));
    if (this.feedUseCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [cache.length > 0], [1]);
    const out = await this.session.run(feeds);
    const tensors: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.config.numLayers; i++) {
      for (const kv of ['key', 'value']) tensors[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`]!;
    }
    return { lastLogits: lastRow(out.logits!), cache: { length: total, tensors } };
  }

  /** Next-token logits after `ids`, from one pass with no cache (the reference the cached path must match). */
  async forwardFull(ids: readonly number[]): Promise<Float32Array> {
    return (await this.forward(ids, this.emptyCache())).lastLogits;
  }

  /** Greedy decoding from `ids`, with the KV cache (default) or rerunning the full sequence each token. */
  async generate(ids: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
    const stop = new Set(options.stopIds);
    const useCache = options.useCache ?? true;
    const seq = [...ids];
    const out: number[] = [];
    let step = await this.forward(seq, this.emptyCache());
    while (out.length < options.maxNewTokens) {
      const next = argmax(step.lastLogits);
      if (stop.has(next)) return { ids: out, stoppedBy: 'stop' };
      out.push(next);
      seq.push(next);
      if (out.length === options.maxNewTokens) break;
      step = useCache ? await this.forward([next], step.cache) : await this.forward(seq, this.emptyCache());
    }
    return { ids: out, stoppedBy: 'limit' };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function int64Tensor(values: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [1, values.length]);
}

/** The logits row of the last position of a [1, seq, vocab] tensor, as float32 (fp16 exports return raw bits). */
export function lastRow(logits: ort.Tensor): Float32Array {
  const dims = logits.dims;
  const vocab = dims[dims.length - 1]!;
  const rows = logits.data.length / vocab;
  const start = (rows - 1) * vocab;
  if (logits.type === 'float16') return widenFloat16((logits.data as Uint16Array).subarray(start, start + vocab));
  if (logits.type !== 'float32') throw new Error(`logits of type ${logits.type} are not supported`);
  return (logits.data as Float32Array).slice(start, start + vocab);
}

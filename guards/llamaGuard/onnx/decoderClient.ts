/**
 * A causal-LM decoder exported by Optimum / transformers.js (input_ids, attention_mask,
 * position_ids, past_key_values.{i}.key/.value -> logits, present.{i}.key/.value), as the main
 * thread sees it. The session and its KV cache live in the ONNX worker thread
 * (../../onnx/ortHost.ts); the decoding loops themselves are in workerLoop.ts and run there, so
 * the KV tensors never cross threads and no decoder step runs on the event loop. Each call
 * sends token ids and gets back logits, generated ids or P(unsafe).
 */
import type { InferenceSession } from 'onnxruntime-node';
import { type HostedSession, ortHost } from '../../onnx/ortHost';
import type { RecipeTokens } from '../../onnx/ortProtocol';
import type { DecoderConfig } from './modelFiles';

export { argmax, lastRow, type TensorLike } from './logits';

export interface GenerateOptions {
  maxNewTokens: number;
  /** Generation stops before emitting any of these. */
  stopIds: ReadonlySet<number> | readonly number[];
  /** false: every token reruns the whole sequence with no cache (reference / benchmark only). */
  useCache?: boolean;
  signal?: AbortSignal;
}

export interface GenerateResult {
  ids: number[];
  stoppedBy: 'stop' | 'limit';
}

export interface DecoderClassification {
  pUnsafe: number;
  generated: number[];
  stoppedBy: 'stop' | 'limit';
}

export interface OnnxDecoderOptions {
  kvDtype?: 'float32' | 'float16';
  sessionOptions?: InferenceSession.SessionOptions;
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

export class OnnxDecoder {
  private constructor(
    private readonly session: HostedSession,
    readonly config: DecoderConfig,
  ) {}

  static async create(onnxPath: string, config: DecoderConfig, options: OnnxDecoderOptions = {}): Promise<OnnxDecoder> {
    const session = await ortHost().openSession({
      kind: 'decoder',
      file: onnxPath,
      sessionOptions: { ...(options.sessionOptions ?? {}) } as Record<string, unknown>,
      decoder: { numLayers: config.numLayers, numKvHeads: config.numKvHeads, headDim: config.headDim, kvDtype: options.kvDtype ?? 'float32' },
    });
    try {
      checkDecoderSignature(onnxPath, config, session.inputNames, session.outputNames);
    } catch (err) {
      await session.close();
      throw err;
    }
    return new OnnxDecoder(session, config);
  }

  /** Next-token logits after `ids`, from one pass with no cache (the reference the cached path must match). */
  async forwardFull(ids: readonly number[]): Promise<Float32Array> {
    return (await this.forwardChunks([ids]))[0]!;
  }

  /**
   * Feeds the chunks one after another through one KV cache (in the worker) and returns the
   * next-token logits after each chunk: `[[prompt], [t1], [t2]]` is prefill then two cached steps.
   */
  async forwardChunks(chunks: readonly (readonly number[])[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (chunks.length === 0 || chunks.some((c) => c.length === 0)) throw new Error('forward needs at least one token per chunk');
    const packed = chunks.map((c) => Int32Array.from(c));
    const { logits } = await this.session.call('forward', { chunks: packed }, packed.map((c) => c.buffer as ArrayBuffer), signal);
    return logits;
  }

  /** Greedy decoding from `ids`, with the KV cache (default) or rerunning the full sequence each token. */
  async generate(ids: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
    if (ids.length === 0) throw new Error('forward needs at least one token');
    const packed = Int32Array.from(ids);
    const result = await this.session.call(
      'generate',
      { ids: packed, maxNewTokens: options.maxNewTokens, stopIds: [...options.stopIds], useCache: options.useCache ?? true },
      [packed.buffer as ArrayBuffer],
      options.signal,
    );
    return { ids: Array.from(result.ids), stoppedBy: result.stoppedBy };
  }

  /** The Llama Guard scoring recipe, run whole in the worker (see workerLoop.ts `classify`). */
  async classify(tokens: RecipeTokens, promptIds: readonly number[], maxNewTokens: number, signal?: AbortSignal): Promise<DecoderClassification> {
    if (promptIds.length === 0) throw new Error('forward needs at least one token');
    const packed = Int32Array.from(promptIds);
    const result = await this.session.call(
      'classify',
      { ids: packed, tokens: { newlines: tokens.newlines, safe: tokens.safe, unsafe: tokens.unsafe, stopIds: [...tokens.stopIds] }, maxNewTokens },
      [packed.buffer as ArrayBuffer],
      signal,
    );
    return { pUnsafe: result.pUnsafe, generated: Array.from(result.generated), stoppedBy: result.stoppedBy };
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

/**
 * An encoder classifier session (BERT/DeBERTa style) as the main thread sees it: the session
 * itself lives in the ONNX worker thread (ortHost.ts); `run` packs a batch of token-id rows
 * into one Int32Array, moves it to the worker, and gets back float32 outputs split per row.
 * Padding, the int64 tensors, the run and float16 widening all happen in the worker, so a run
 * never holds the event loop, except a lone segment short enough to run inline (inlineEncoder.ts:
 * measured at load to fit a budget of 2 ms) when no other run is under way, where the thread
 * hops would cost more than the hold.
 */
import * as os from 'node:os';
import { packRows } from './batchLayout';
import { widenFloat16 } from './float16';
import { INLINE_BUDGET_MS, InlineEncoder } from './inlineEncoder';
import type { WireTensor } from './ortProtocol';
import { type HostedSession, ortHost } from './ortHost';

/** Encoder runs under way in this process, inline or in a worker (inline runs go only when there are none). */
let runsUnderWay = 0;

export { padBatch } from './batchLayout';

export interface EncoderSessionOptions {
  /** Threads for one operator; defaults to the cores per worker of the pool (at most 4). */
  intraOpThreads?: number;
  /** From config.json; decides whether token_type_ids may be fed. */
  typeVocabSize: number;
  /** Id written into padded positions (masked out by attention_mask). */
  padId: number;
  /** Inline runs (inlineEncoder.ts): the time budget (default 2 ms; 0: every run in the worker) ... */
  inlineBudgetMs?: number;
  /** ... or a fixed length (a lone segment of at most this many tokens) instead of the measurement. */
  inlineMaxTokens?: number;
  /** The model's frame ([CLS] [SEP]) and window, for the inline calibration rows. */
  frame?: readonly number[];
  maxLength?: number;
}

/** Where this session's runs went, and why inline runs are on or off. */
export interface EncoderRunStats {
  inlineRuns: number;
  workerRuns: number;
  /** Length up to which a lone segment runs inline (0: never). */
  inlineMaxTokens: number;
  inline: string;
}

/** The named float outputs of one run, one Float32Array per batch row. */
export type EncoderOutputs = Record<string, Float32Array[]>;

export interface SessionSignature {
  feedTokenTypeIds: boolean;
  /** Outputs read back besides `logits` (e.g. `category_logits`). */
  outputs: string[];
}

/**
 * Checks the session's input and output names against what this wrapper feeds and reads.
 * Pure, so every mismatch message is tested without a model.
 */
export function checkSessionSignature(
  file: string,
  inputNames: readonly string[],
  outputNames: readonly string[],
  typeVocabSize: number,
): SessionSignature {
  for (const required of ['input_ids', 'attention_mask']) {
    if (!inputNames.includes(required)) {
      throw new Error(
        `${file} has no input "${required}" (inputs: ${inputNames.join(', ') || 'none'}). ` +
          'Export the encoder with Hugging Face Optimum for text-classification, which names its inputs input_ids and attention_mask.',
      );
    }
  }
  const feedTokenTypeIds = inputNames.includes('token_type_ids');
  if (feedTokenTypeIds && typeVocabSize <= 0) {
    throw new Error(
      `${file} takes token_type_ids but config.json has type_vocab_size ${typeVocabSize}: the ONNX file and config.json ` +
        'do not belong to the same model. Use the config.json exported with this ONNX file.',
    );
  }
  const unknown = inputNames.filter((n) => !['input_ids', 'attention_mask', 'token_type_ids'].includes(n));
  if (unknown.length) {
    throw new Error(`${file} needs inputs this runtime cannot feed: ${unknown.join(', ')}. Only encoder classifiers (input_ids, attention_mask) are supported here.`);
  }
  if (!outputNames.includes('logits')) {
    throw new Error(`${file} has no output "logits" (outputs: ${outputNames.join(', ') || 'none'}). Re-export it for the text-classification task.`);
  }
  return { feedTokenTypeIds, outputs: outputNames.filter((n) => n !== 'logits') };
}

/** The cores shared out over the pool's workers (one each on a machine with as many cores as workers), at most 4. */
export function defaultIntraOpThreads(): number {
  return Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / ortHost().poolSize)));
}

export class EncoderSession {
  private readonly counts = { inlineRuns: 0, workerRuns: 0 };

  private constructor(
    readonly file: string,
    private readonly session: HostedSession,
    readonly signature: SessionSignature,
    private readonly inline: InlineEncoder | undefined,
    private readonly inlineReason: string,
  ) {}

  static async open(file: string, options: EncoderSessionOptions): Promise<EncoderSession> {
    let session: HostedSession;
    const sessionOptions = {
      intraOpNumThreads: options.intraOpThreads ?? defaultIntraOpThreads(),
      // One operator at a time: inter-op parallelism only adds contention for encoder graphs.
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    };
    try {
      session = await ortHost().openSession({ kind: 'encoder', file, padId: options.padId, sessionOptions });
    } catch (err) {
      throw new Error(
        `onnxruntime could not load ${file}: ${(err as Error).message}. Check that the file is complete (not a Git LFS pointer) ` +
          'and that any external data file (model.onnx_data) sits beside it.',
      );
    }
    let signature: SessionSignature;
    try {
      signature = checkSessionSignature(file, session.inputNames, session.outputNames, options.typeVocabSize);
    } catch (err) {
      await session.close();
      throw err;
    }
    // Opened after the worker's session, whose checks give the clearer errors for a bad file.
    const inline = await InlineEncoder.open({
      file,
      sessionOptions,
      padId: options.padId,
      budgetMs: options.inlineBudgetMs ?? INLINE_BUDGET_MS,
      maxTokens: options.inlineMaxTokens,
      frame: options.frame ?? [],
      maxLength: options.maxLength ?? 512,
    });
    return new EncoderSession(file, session, signature, inline.encoder, inline.reason);
  }

  get runStats(): EncoderRunStats {
    return { ...this.counts, inlineMaxTokens: this.inline?.maxTokens ?? 0, inline: this.inlineReason };
  }

  /**
   * Runs one padded batch, inline when it is one segment short enough (see inlineEncoder.ts),
   * else in the ONNX worker; returns `logits` and any other float outputs, split per row.
   */
  async run(rows: readonly number[][], placement: 'auto' | 'worker' = 'auto'): Promise<EncoderOutputs> {
    if (rows.length === 0) return { logits: [] };
    let outputs: Record<string, WireTensor>;
    // Inline only when no other encoder run is under way anywhere in the process: under
    // concurrent load the event loop is the scarce core (a CPU profile of bench:load at 16 clients
    // had inline runs take 38% of it while the ONNX workers idled), the pool's workers are not.
    if (placement === 'auto' && this.inline && rows.length === 1 && rows[0]!.length <= this.inline.maxTokens && runsUnderWay === 0) {
      this.counts.inlineRuns++;
      runsUnderWay++;
      try {
        outputs = await this.inline.run(rows);
      } finally {
        runsUnderWay--;
      }
    } else {
      this.counts.workerRuns++;
      const packed = packRows(rows);
      runsUnderWay++;
      try {
        outputs = (await this.session.call('encode', packed, [packed.ids.buffer as ArrayBuffer, packed.lengths.buffer as ArrayBuffer])).outputs;
      } finally {
        runsUnderWay--;
      }
    }
    const out: EncoderOutputs = {};
    for (const name of ['logits', ...this.signature.outputs]) {
      const tensor = outputs[name];
      if (!tensor) continue;
      out[name] = splitRows(name, tensor.type, tensor.data, tensor.dims, rows.length);
    }
    if (!out.logits) throw new Error('the model returned no logits');
    return out;
  }

  async close(): Promise<void> {
    await this.inline?.close();
    await this.session.close();
  }
}

export function splitRows(name: string, type: string, raw: Float32Array | Uint16Array, dims: readonly number[], batch: number): Float32Array[] {
  let data: Float32Array;
  if (type === 'float32') data = raw as Float32Array;
  else if (type === 'float16') data = widenFloat16(raw as Uint16Array);
  else throw new Error(`output ${name} has type ${type}; expected float32 or float16`);
  if (dims.length !== 2 || dims[0] !== batch) {
    throw new Error(`output ${name} has shape [${dims.join(', ')}]; expected [${batch}, labels]`);
  }
  const width = dims[1];
  const rows: Float32Array[] = [];
  // Views, not copies: the buffer came from the worker and belongs to this batch alone.
  for (let r = 0; r < batch; r++) rows.push(data.subarray(r * width, (r + 1) * width));
  return rows;
}

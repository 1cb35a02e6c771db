/**
 * A thin wrapper over one onnxruntime-node session for an encoder classifier (BERT/DeBERTa
 * style): pads a batch of token-id rows to the longest, feeds int64 tensors, and returns the
 * float outputs per row.
 *
 * Known limit: onnxruntime-node 1.21's `run` executes synchronously on the calling thread (its
 * backend only defers it with setImmediate), so a run holds the event loop for its duration.
 * Moving sessions to a worker thread is not safe piecemeal: the 1.21 binding keeps
 * per-thread state in process-wide statics, and loading it in a second thread (main + worker,
 * or two workers) crashes the process ("Entering the V8 API without proper locking") on the
 * next run. Off-loop inference therefore needs every ONNX session of the process (all guards)
 * in one host thread or process; until then runs stay on the event loop.
 */
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import { widenFloat16 } from './float16';

export interface EncoderSessionOptions {
  /** Threads for one operator; defaults to half the cores (at most 4), leaving room for the HTTP side. */
  intraOpThreads?: number;
  /** From config.json; decides whether token_type_ids may be fed. */
  typeVocabSize: number;
  /** Id written into padded positions (masked out by attention_mask). */
  padId: number;
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

export function defaultIntraOpThreads(): number {
  return Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / 2)));
}

/** Pads rows to the longest and lays them out row-major for int64 tensors. */
export function padBatch(rows: readonly number[][], padId: number): { ids: BigInt64Array; mask: BigInt64Array; width: number } {
  const width = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const ids = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) {
      ids[r * width + c] = BigInt(row[c]);
      mask[r * width + c] = 1n;
    }
  });
  return { ids, mask, width };
}

export class EncoderSession {
  private constructor(
    readonly file: string,
    private readonly session: ort.InferenceSession,
    readonly signature: SessionSignature,
    private readonly padId: number,
  ) {}

  static async open(file: string, options: EncoderSessionOptions): Promise<EncoderSession> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: options.intraOpThreads ?? defaultIntraOpThreads(),
        // One operator at a time: inter-op parallelism only adds contention for encoder graphs.
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      });
    } catch (err) {
      throw new Error(
        `onnxruntime could not load ${file}: ${(err as Error).message}. Check that the file is complete (not a Git LFS pointer) ` +
          'and that any external data file (model.onnx_data) sits beside it.',
      );
    }
    try {
      const signature = checkSessionSignature(file, session.inputNames, session.outputNames, options.typeVocabSize);
      return new EncoderSession(file, session, signature, options.padId);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** Runs one padded batch; returns `logits` and any other float outputs, split per row. */
  async run(rows: readonly number[][]): Promise<EncoderOutputs> {
    if (rows.length === 0) return { logits: [] };
    const { ids, mask, width } = padBatch(rows, this.padId);
    const dims = [rows.length, width];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, dims),
      attention_mask: new ort.Tensor('int64', mask, dims),
    };
    if (this.signature.feedTokenTypeIds) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(ids.length), dims);
    const results = await this.session.run(feeds);
    const out: EncoderOutputs = {};
    for (const name of ['logits', ...this.signature.outputs]) {
      const tensor = results[name];
      if (!tensor) continue;
      out[name] = splitRows(name, tensor.type, tensor.data as Float32Array | Uint16Array, tensor.dims, rows.length);
    }
    if (!out.logits) throw new Error('the model returned no logits');
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
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
  for (let r = 0; r < batch; r++) rows.push(data.slice(r * width, (r + 1) * width));
  return rows;
}

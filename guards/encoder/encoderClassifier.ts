/**
 * One loaded encoder classifier (Prompt Guard, the content-safety encoder): model directory,
 * tokenizer, ONNX session and the micro-batcher in front of it. Guards build on this; it knows
 * nothing about labels' meaning.
 */
import { EncoderSession, type EncoderRunStats } from '../onnx/encoderSession';
import { ortHost } from '../onnx/ortHost';
import { readModelDirectory, type ModelDirectory } from '../modelDirectory';
import { MicroBatcher } from '../runtime/microBatcher';
import { RowCache } from '../runtime/rowCache';
import { SharedWork } from '../runtime/sharedWork';
import type { CharSpan } from '../text/fineWindows';
import { buildSegments, type SegmentLayout } from '../text/segments';
import { DEFAULT_SLICE_CHARS, encodeLongText, removeTokenSplittingSpaces } from '../tokenizer/longText';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import { pause } from '../runtime/yield';
import { splitTemplate } from './template';

export interface EncoderClassifierOptions {
  modelDir: string;
  /** ONNX file variant (`quantized` -> onnx/model_quantized.onnx). */
  variant?: string;
  /** Shrinks the segment window below the model's (never above it). */
  maxLength?: number;
  intraOpThreads?: number;
  /** Segments per ONNX run (16 in Meta's reference). */
  maxBatchSize?: number;
  /** How long the first waiting segment may wait for others to share its run; default 0 (the next event-loop turn). */
  batchWaitMs?: number;
  /** Characters tokenized between two event-loop turns. */
  sliceChars?: number;
  /** A lone segment measured to score within this many ms runs on the main thread (default 2; 0: never). */
  inlineBudgetMs?: number;
  /** Or: a lone segment of at most this many tokens runs there (skips the measurement). */
  inlineMaxTokens?: number;
  /** Model outputs kept per row (segment or fine window) for reuse across texts and requests; default 16384, 0: none. */
  rowCacheSize?: number;
}

/**
 * Token ids of recently scanned texts, kept for the other rules reading the same text: entries,
 * and the longest text kept after its run (16K characters); longer texts are shared only while
 * they are being tokenized. Each entry holds its text (the key) and its ids: a few MB at most in
 * all for Latin text, tens of MB in the worst case.
 */
const RECENT_TOKENIZATIONS = 64;
const RECENT_TOKENIZATION_MAX_CHARS = 16 * 1024;

/** Rows whose outputs are kept by default: a 128K-token text with fine windows is about 5,000. */
export const DEFAULT_ROW_CACHE_SIZE = 16384;

/** Raw model outputs for one segment. */
export interface SegmentOutput {
  logits: Float32Array;
  categoryLogits?: Float32Array;
}

export class EncoderClassifier {
  private constructor(
    readonly directory: ModelDirectory,
    readonly tokenizer: TextTokenizer,
    private readonly session: EncoderSession,
    private readonly batcher: MicroBatcher<number[], SegmentOutput>,
    private readonly sliceChars: number,
    /** Outputs per row, used by scans that cache (guards/encoder/scanTexts.ts). */
    readonly rowCache: RowCache<SegmentOutput>,
  ) {}

  /** Tokenizations shared between the scans reading the same text (runtime/sharedWork.ts): whole texts, and their fine-window units. */
  private readonly textTokenizations = new SharedWork<readonly number[]>(RECENT_TOKENIZATIONS);
  private readonly unitTokenizations = new SharedWork<readonly (readonly number[])[]>(RECENT_TOKENIZATIONS);

  static async load(options: EncoderClassifierOptions): Promise<EncoderClassifier> {
    const directory = readModelDirectory(options.modelDir, { variant: options.variant, maxLength: options.maxLength });
    const tokenizer = new TextTokenizer(directory.tokenizerJson, directory.tokenizerConfig);
    const session = await EncoderSession.open(directory.onnxPath, {
      intraOpThreads: options.intraOpThreads,
      typeVocabSize: directory.config.typeVocabSize,
      padId: tokenizer.frame.padId,
      inlineBudgetMs: options.inlineBudgetMs,
      inlineMaxTokens: options.inlineMaxTokens,
      frame: [...tokenizer.frame.prefix, ...tokenizer.frame.suffix],
      maxLength: directory.maxLength,
    });
    try {
      await checkOutputWidths(directory, tokenizer, session);
    } catch (err) {
      await session.close();
      throw err;
    }
    const batcher = new MicroBatcher<number[], SegmentOutput>(
      async (rows) => {
        const out = await session.run(rows);
        return rows.map((_, i) => ({ logits: out.logits[i], categoryLogits: out.category_logits?.[i] }));
      },
      // One batch in flight per ONNX worker: a long input's batches run on every core at once.
      { maxBatchSize: options.maxBatchSize ?? 16, maxWaitMs: options.batchWaitMs ?? 0, maxConcurrentBatches: ortHost().poolSize },
    );
    return new EncoderClassifier(directory, tokenizer, session, batcher, options.sliceChars ?? DEFAULT_SLICE_CHARS, new RowCache(options.rowCacheSize ?? DEFAULT_ROW_CACHE_SIZE));
  }

  get labels(): string[] {
    return this.directory.config.labels;
  }

  get maxLength(): number {
    return this.directory.maxLength;
  }

  get batchStats(): { batches: number; inputs: number; largestBatch: number } {
    return this.batcher.stats;
  }

  /** How many runs went inline / to the worker, and why inline runs are on or off. */
  get runStats(): EncoderRunStats {
    return this.session.runStats;
  }

  /**
   * Fine-window size in tokens for scans: the operator's setting, else the model's config.json
   * `fine_windows.max_tokens`, else 0 (off); never above what a segment holds.
   */
  fineWindowTokens(setting?: number): number {
    const n = setting ?? this.directory.config.fineWindowTokens ?? 0;
    return Math.min(n, this.directory.maxLength - 2);
  }

  /** Segment layout with the tokenizer's frame around optional template tokens. */
  layout(templatePrefix: readonly number[] = [], templateSuffix: readonly number[] = []): SegmentLayout {
    return {
      maxLength: this.directory.maxLength,
      prefix: [...this.tokenizer.frame.prefix, ...templatePrefix],
      suffix: [...templateSuffix, ...this.tokenizer.frame.suffix],
    };
  }

  /** Layout for one config.json `text_template` entry (none: the bare frame). */
  templateLayout(template: string | undefined): SegmentLayout {
    const parts = splitTemplate(template);
    return this.layout(this.tokenizer.encodeIds(parts.prefix), this.tokenizer.encodeIds(parts.suffix));
  }

  encode(text: string, signal?: AbortSignal): Promise<number[]> {
    return encodeLongText(this.tokenizer, text, { sliceChars: this.sliceChars, signal });
  }

  removeTokenSplittingSpaces(text: string, signal?: AbortSignal): Promise<string> {
    return removeTokenSplittingSpaces(this.tokenizer, text, { sliceChars: this.sliceChars, signal });
  }

  /**
   * Token ids of many short texts (the units of fine windows), each tokenized on its own
   * (optionally after the whitespace-attack fix), yielding to the event loop about every
   * slice's worth of characters.
   */
  async encodeUnits(texts: readonly string[], mitigate: boolean, signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    let done = 0;
    for (const t of texts) {
      if (done >= this.sliceChars) {
        await pause(signal);
        done = 0;
      }
      const text = mitigate ? await this.removeTokenSplittingSpaces(t, signal) : t;
      out.push(text.length > this.sliceChars ? await this.encode(text, signal) : this.tokenizer.encodeIds(text));
      done += mitigate ? 2 * t.length : t.length;
    }
    return out;
  }

  /**
   * A text's token ids as scans read it (after the whitespace-attack fix when `mitigate`), shared
   * by the scans reading it at the same time; kept a while after when `keep` (a guard without a
   * result cache keeps no texts). `scope`: the request's cache scope (GuardRequest.cacheScope):
   * shared within it only, since a tokenization another app's request left (a faster answer) told
   * that app's text as a cached verdict would.
   */
  textIds(text: string, mitigate: boolean, signal?: AbortSignal, keep = true, scope = ''): Promise<readonly number[]> {
    const run = async () => this.encode(mitigate ? await this.removeTokenSplittingSpaces(text, signal) : text, signal);
    return this.textTokenizations.get(`${scope}\u0000${mitigate ? 'm' : 'r'}${text}`, run, signal, keep && text.length <= RECENT_TOKENIZATION_MAX_CHARS);
  }

  /** The token ids of a text's fine-window units (encodeUnits), shared like textIds. */
  unitIds(text: string, units: readonly CharSpan[], mitigate: boolean, signal?: AbortSignal, keep = true, scope = ''): Promise<readonly (readonly number[])[]> {
    const run = () =>
      this.encodeUnits(
        units.map((u) => text.slice(u.start, u.end)),
        mitigate,
        signal,
      );
    return this.unitTokenizations.get(`${scope}\u0000${mitigate ? 'm' : 'r'}${text}`, run, signal, keep && text.length <= RECENT_TOKENIZATION_MAX_CHARS);
  }

  segments(ids: readonly number[], layout: SegmentLayout = this.layout()): number[][] {
    return buildSegments(ids, layout);
  }

  /** Scores segments through the shared batcher (batched with other concurrent checks); `onOutput` hears each as its batch returns. */
  classify(segments: number[][], signal?: AbortSignal, onOutput?: (index: number, output: SegmentOutput) => void): Promise<SegmentOutput[]> {
    return this.batcher.submit(segments, signal, onOutput);
  }

  async close(): Promise<void> {
    this.rowCache.clear();
    this.textTokenizations.clear();
    this.unitTokenizations.clear();
    this.batcher.close();
    await this.session.close();
  }
}

/** A dummy run (frame only, in the worker that runs most batches) proves that config.json's labels match the model's outputs. */
async function checkOutputWidths(directory: ModelDirectory, tokenizer: TextTokenizer, session: EncoderSession): Promise<void> {
  const frame = [...tokenizer.frame.prefix, ...tokenizer.frame.suffix];
  let out;
  try {
    out = await session.run([frame.length ? frame : [tokenizer.frame.padId]], 'worker');
  } catch (err) {
    throw new Error(`a test run of ${directory.onnxPath} failed: ${(err as Error).message}. The ONNX file may not match tokenizer.json or config.json.`);
  }
  const width = out.logits[0]?.length ?? 0;
  const labels = directory.config.labels;
  if (width !== labels.length) {
    throw new Error(
      `config.json id2label names ${labels.length} labels (${labels.join(', ')}) but ${directory.onnxPath} outputs ${width} logits. ` +
        'config.json and the ONNX file come from different models; use the config.json exported with it.',
    );
  }
  const categories = directory.config.categoryLabels;
  const categoryWidth = out.category_logits?.[0]?.length;
  if (categories && categoryWidth !== undefined && categoryWidth !== categories.length) {
    throw new Error(
      `config.json category_id2label names ${categories.length} categories but ${directory.onnxPath} outputs ${categoryWidth} category_logits. ` +
        'Use the config.json exported with this ONNX file.',
    );
  }
}

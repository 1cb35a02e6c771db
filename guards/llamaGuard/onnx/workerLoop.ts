/**
 * The KV-cache decoding loops, run inside the ONNX worker thread (../onnx/worker/ortWorker.ts):
 * the past key/value tensors live and die here and never cross threads; the main thread sends
 * prompt ids and gets back logits, generated ids or P(unsafe).
 *
 * Decoder exported by Optimum / transformers.js. Inputs: input_ids, attention_mask,
 * position_ids (= cumsum(mask) - 1), and past_key_values.{i}.key/.value (zero-length on the
 * first call); outputs: logits and present.{i}.key/.value, which become the next call's past.
 * One request at a time per cache, batch of one: a guard check is one conversation.
 */
import type * as Ort from 'onnxruntime-node';
import type { DecoderShape, Ops } from '../../onnx/ortProtocol';
import { argmax, lastRow } from './logits';
import { unsafeProbability } from '../score';

/** Prompt tokens per decoder run when reading a prompt (see prefill). */
export const PREFILL_CHUNK = 512;

/** The past key/value tensors after some tokens, keyed by input name (`past_key_values.0.key`, ...). */
interface KvCache {
  length: number;
  tensors: Record<string, Ort.Tensor>;
}

interface StepResult {
  lastLogits: Float32Array;
  cache: KvCache;
}

/** Throws when the main thread gave up on the call (deadline, caller abort); checked between steps. */
export type CancelCheck = () => void;

export class DecoderRunner {
  private readonly feedPositionIds: boolean;
  private readonly feedUseCacheBranch: boolean;

  constructor(
    private readonly ort: typeof Ort,
    readonly session: Ort.InferenceSession,
    private readonly shape: DecoderShape,
  ) {
    this.feedPositionIds = session.inputNames.includes('position_ids');
    // Optimum's merged decoders switch between their with-past and without-past branches on this flag.
    this.feedUseCacheBranch = session.inputNames.includes('use_cache_branch');
  }

  private emptyCache(): KvCache {
    const dims = [1, this.shape.numKvHeads, 0, this.shape.headDim];
    const tensors: Record<string, Ort.Tensor> = {};
    for (let i = 0; i < this.shape.numLayers; i++) {
      for (const kv of ['key', 'value']) {
        tensors[`past_key_values.${i}.${kv}`] =
          this.shape.kvDtype === 'float16' ? new this.ort.Tensor('float16', new Uint16Array(0), dims) : new this.ort.Tensor('float32', new Float32Array(0), dims);
      }
    }
    return { length: 0, tensors };
  }

  /** Feeds `ids` after what `cache` holds; returns the next-token logits and the extended cache. */
  private async forward(ids: ArrayLike<number>, cache: KvCache): Promise<StepResult> {
    if (ids.length === 0) throw new Error('forward needs at least one token');
    const total = cache.length + ids.length;
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: this.int64(Array.from(ids)),
      // No padding in a batch of one: the mask is all ones, so cumsum(mask) - 1 is the absolute position.
      attention_mask: this.int64(new Array<number>(total).fill(1)),
      ...cache.tensors,
    };
    if (this.feedPositionIds) feeds.position_ids = this.int64(Array.from({ length: ids.length }, (_, i) => cache.length + i));
    if (this.feedUseCacheBranch) feeds.use_cache_branch = new this.ort.Tensor('bool', [cache.length > 0], [1]);
    const out = await this.session.run(feeds);
    const tensors: Record<string, Ort.Tensor> = {};
    for (let i = 0; i < this.shape.numLayers; i++) {
      for (const kv of ['key', 'value']) tensors[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`]!;
    }
    return { lastLogits: lastRow(out.logits!), cache: { length: total, tensors } };
  }

  private int64(values: number[]): Ort.Tensor {
    return new this.ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [1, values.length]);
  }

  /**
   * Reads a prompt in chunks through the cache: one pass over a long prompt would hold logits for
   * every position (128K x a 128K vocabulary) and, in exports without fused attention, an n x n
   * attention matrix per head: tens of gigabytes, a crash. Chunks keep it to PREFILL_CHUNK rows,
   * and a deadline is noticed between them.
   */
  private async prefill(ids: readonly number[], cancel: CancelCheck): Promise<StepResult> {
    let step: StepResult | undefined;
    let cache = this.emptyCache();
    for (let at = 0; at < ids.length; at += PREFILL_CHUNK) {
      if (at > 0) cancel();
      step = await this.forward(ids.slice(at, at + PREFILL_CHUNK), cache);
      cache = step.cache;
    }
    if (!step) throw new Error('forward needs at least one token');
    return step;
  }

  /** Feeds the chunks one after another through one cache; the next-token logits after each. */
  async forwardChunks({ chunks }: Ops['forward']['args'], cancel: CancelCheck): Promise<Ops['forward']['result']> {
    const logits: Float32Array[] = [];
    let cache = this.emptyCache();
    for (const chunk of chunks) {
      cancel();
      const step = await this.forward(chunk, cache);
      logits.push(step.lastLogits);
      cache = step.cache;
    }
    return { logits };
  }

  /** Greedy decoding from `ids`, with the KV cache (default) or rerunning the full sequence each token. */
  async generate(args: Ops['generate']['args'], cancel: CancelCheck): Promise<Ops['generate']['result']> {
    const stop = new Set(args.stopIds);
    const seq = Array.from(args.ids);
    const out: number[] = [];
    const done = (stoppedBy: 'stop' | 'limit') => ({ ids: Int32Array.from(out), stoppedBy });
    let step = args.useCache ? await this.prefill(seq, cancel) : await this.forward(seq, this.emptyCache());
    while (out.length < args.maxNewTokens) {
      const next = argmax(step.lastLogits);
      if (stop.has(next)) return done('stop');
      out.push(next);
      seq.push(next);
      if (out.length === args.maxNewTokens) break;
      cancel();
      step = args.useCache ? await this.forward([next], step.cache) : await this.forward(seq, this.emptyCache());
    }
    return done('limit');
  }

  /**
   * The Llama Guard 3 scoring recipe (how Meta computes the model cards' AUPRC): run the prompt,
   * append the template's first generated token `\n\n` through the cache, read P(unsafe) from the
   * `safe` / `unsafe` logits at the next position, then greedily decode the rest of the answer
   * from that decision until a stop id or the token cap (which counts the forced `\n\n`).
   */
  async classify({ ids, tokens, maxNewTokens }: Ops['classify']['args'], cancel: CancelCheck): Promise<Ops['classify']['result']> {
    const stop = new Set(tokens.stopIds);
    let step = await this.prefill(Array.from(ids), cancel);
    cancel();
    step = await this.forward([tokens.newlines], step.cache);
    const pUnsafe = unsafeProbability(step.lastLogits[tokens.safe]!, step.lastLogits[tokens.unsafe]!);
    // A tie goes to unsafe: when the guard cannot tell, the policy should see the worse case.
    const generated = [pUnsafe >= 0.5 ? tokens.unsafe : tokens.safe];
    while (1 + generated.length < maxNewTokens) {
      cancel();
      step = await this.forward([generated[generated.length - 1]!], step.cache);
      const next = argmax(step.lastLogits);
      if (stop.has(next)) return { pUnsafe, generated: Int32Array.from(generated), stoppedBy: 'stop' };
      generated.push(next);
    }
    return { pUnsafe, generated: Int32Array.from(generated), stoppedBy: 'limit' };
  }
}

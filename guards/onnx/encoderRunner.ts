/**
 * Runs an encoder classifier session on the thread that holds it: pads a packed batch of
 * token-id rows into int64 tensors, runs the session, and returns every output as float32
 * (float16 widened here). The ONNX worker uses it for every run; inlineEncoder.ts uses it on the
 * main thread for runs short enough to skip the thread hops.
 */
import type * as Ort from 'onnxruntime-node';
import { widenFloat16 } from './float16';
import type { Ops, WireTensor } from './ortProtocol';
import { padPacked, pickRows, widthGroups } from './batchLayout';

export class EncoderRunner {
  private readonly feedTokenTypeIds: boolean;

  constructor(
    private readonly ort: typeof Ort,
    readonly session: Ort.InferenceSession,
    private readonly padId: number,
  ) {
    this.feedTokenTypeIds = session.inputNames.includes('token_type_ids');
  }

  /** Runs the batch, in separate runs per group of similar row widths (batchLayout.widthGroups), outputs in row order. */
  async encode({ ids, lengths }: Ops['encode']['args']): Promise<Ops['encode']['result']> {
    const groups = widthGroups(lengths);
    if (groups.length === 1) return this.encodeOne(ids, lengths);
    const merged: Record<string, WireTensor> = {};
    for (const rows of groups) {
      const part = pickRows(ids, lengths, rows);
      const { outputs } = await this.encodeOne(part.ids, part.lengths);
      for (const [name, tensor] of Object.entries(outputs)) {
        const width = tensor.dims[1] ?? 0;
        let into = merged[name];
        if (!into) {
          into = { type: tensor.type, dims: [lengths.length, ...tensor.dims.slice(1)], data: new Float32Array(lengths.length * width) };
          merged[name] = into;
        }
        // A non-float output arrives empty (refused by type on the main thread): nothing to place.
        if (tensor.data.length < rows.length * width) continue;
        rows.forEach((r, k) => into!.data.set(tensor.data.subarray(k * width, (k + 1) * width), r * width));
      }
    }
    return { outputs: merged };
  }

  private async encodeOne(ids: Int32Array, lengths: Int32Array): Promise<Ops['encode']['result']> {
    const { ids: padded, mask, width } = padPacked(ids, lengths, this.padId);
    const dims = [lengths.length, width];
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new this.ort.Tensor('int64', padded, dims),
      attention_mask: new this.ort.Tensor('int64', mask, dims),
    };
    if (this.feedTokenTypeIds) feeds.token_type_ids = new this.ort.Tensor('int64', new BigInt64Array(padded.length), dims);
    const results = await this.session.run(feeds);
    const outputs: Record<string, WireTensor> = {};
    for (const name of this.session.outputNames) {
      const tensor = results[name];
      if (!tensor) continue;
      outputs[name] = { type: tensor.type === 'float16' ? 'float32' : tensor.type, dims: [...tensor.dims], data: toFloat32(tensor) };
    }
    return { outputs };
  }
}

function toFloat32(tensor: Ort.Tensor): Float32Array {
  if (tensor.type === 'float16') return widenFloat16(tensor.data as Uint16Array);
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  // Not a float output: sent as an empty array; the main thread refuses it by its type.
  return new Float32Array(0);
}

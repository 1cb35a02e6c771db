/** Pure helpers over decoder logits, shared by the worker's decoding loop and the tests. */
import { widenFloat16 } from '../../onnx/float16';

/** The parts of an onnxruntime Tensor these helpers read (so they run without the binding). */
export interface TensorLike {
  type: string;
  dims: readonly number[];
  data: ArrayLike<unknown>;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** The logits row of the last position of a [1, seq, vocab] tensor, as float32 (fp16 exports return raw bits). */
export function lastRow(logits: TensorLike): Float32Array {
  const dims = logits.dims;
  const vocab = dims[dims.length - 1]!;
  const rows = logits.data.length / vocab;
  const start = (rows - 1) * vocab;
  if (logits.type === 'float16') return widenFloat16((logits.data as Uint16Array).subarray(start, start + vocab));
  if (logits.type !== 'float32') throw new Error(`logits of type ${logits.type} are not supported`);
  return (logits.data as Float32Array).slice(start, start + vocab);
}

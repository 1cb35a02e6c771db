/**
 * The messages between the main thread (ortHost.ts) and the ONNX worker thread
 * (worker/ortWorker.ts). Plain data only: token ids and outputs travel as typed arrays in
 * transfer lists (moved, not copied), and nothing here imports onnxruntime-node, so the main
 * thread can use these types without loading the binding.
 */

/** What the worker needs to open one session; kept by the host to reopen it after a worker restart. */
export interface SessionSpec {
  kind: 'encoder' | 'decoder';
  /** Absolute path of the .onnx file. */
  file: string;
  /** onnxruntime InferenceSession.SessionOptions, as plain data. */
  sessionOptions: Record<string, unknown>;
  /** Encoder classifiers: the id written into padded positions. */
  padId?: number;
  /** Decoders: the KV-cache shape and element type. */
  decoder?: DecoderShape;
}

export interface DecoderShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  kvDtype: 'float32' | 'float16';
}

/** The token ids of the Llama Guard scoring recipe (see llamaGuard/guardTokens.ts). */
export interface RecipeTokens {
  newlines: number;
  safe: number;
  unsafe: number;
  stopIds: number[];
}

/** One float output of an encoder run: [batch, width], row-major, always float32 (float16 is widened in the worker). */
export interface WireTensor {
  type: string;
  dims: number[];
  data: Float32Array;
}

/** Each operation's arguments and result. Every operation but `open` names an open session. */
export interface Ops {
  open: { args: { spec: SessionSpec }; result: { inputNames: string[]; outputNames: string[] } };
  close: { args: Record<string, never>; result: null };
  /** Encoder: rows of token ids laid end to end (`lengths[i]` ids for row i) -> every output. */
  encode: { args: { ids: Int32Array; lengths: Int32Array }; result: { outputs: Record<string, WireTensor> } };
  /** Decoder: feeds the chunks one after another through the KV cache; next-token logits after each chunk. */
  forward: { args: { chunks: Int32Array[] }; result: { logits: Float32Array[] } };
  /** Decoder: greedy decoding, with the KV cache or rerunning the whole sequence every token. */
  generate: {
    args: { ids: Int32Array; maxNewTokens: number; stopIds: number[]; useCache: boolean };
    result: { ids: Int32Array; stoppedBy: 'stop' | 'limit' };
  };
  /** Decoder: the Llama Guard recipe (llamaGuard/onnx/classify.ts): P(unsafe) and the generated answer. */
  classify: {
    args: { ids: Int32Array; tokens: RecipeTokens; maxNewTokens: number };
    result: { pUnsafe: number; generated: Int32Array; stoppedBy: 'stop' | 'limit' };
  };
}

export type OpName = keyof Ops;

/** Main -> worker. `session` is the host's id for the session (unused by `crash`). */
export type WorkerRequest =
  | { [K in OpName]: { id: number; op: K; session: number; args: Ops[K]['args'] } }[OpName]
  /** Stops a running `forward` / `generate` / `classify` at its next decoder step; no reply. */
  | { id: number; op: 'cancel'; target: number }
  /** Releases every session still open, then lets the thread end on its own (never mid-run); no reply. */
  | { id: number; op: 'shutdown' }
  /** Test hook: throws an uncaught exception in the worker, as a crash would; `duringCall`: inside a call (the running one, or the next). */
  | { id: number; op: 'crash'; duringCall?: boolean };

export interface WireError {
  name: string;
  message: string;
}

/** Worker -> main. */
export type WorkerMessage =
  | { type: 'ready'; binding: string }
  | { type: 'result'; id: number; ok: true; result: unknown }
  | { type: 'result'; id: number; ok: false; error: WireError };

/** Options of a Prompt Guard guard, with the defaults the brief and Meta's reference use. */

export interface PromptGuardOptions {
  /** Name the policy uses (e.g. `prompt_guard`). */
  name: string;
  /** Model directory in Hugging Face layout (config.json, tokenizer.json, tokenizer_config.json, ONNX file). */
  modelDir: string;
  /** ONNX file variant: `quantized` loads onnx/model_quantized.onnx. Not the Prompt Guard version (that comes from id2label). */
  variant?: string;
  /** Model identity recorded in verdicts; defaults to the directory name (plus `:variant`). */
  model?: string;
  /** softmax temperature; Meta's default 1.0. */
  temperature?: number;
  /** Budget for one check; past it the verdict carries a `timeout` error. Default 5000. */
  timeoutMs?: number;
  /** onnxruntime intra-op threads; default half the cores, at most 4. */
  intraOpThreads?: number;
  /** Segments per ONNX run; default 16 (Meta's reference). */
  maxBatchSize?: number;
  /**
   * How long a segment may wait for others to share its run; default 0: no timer, the batch goes
   * at the next event-loop turn (under load, batches fill while the previous run is in the worker).
   */
  batchWaitMs?: number;
  /** Per-text results kept (LRU); 0 disables the cache. Default 4096. */
  cacheSize?: number;
  /** Segment window; defaults to the model's (512). May only shrink it. */
  maxLength?: number;
  /** Meta's whitespace-attack mitigation; default on (as Meta's v1 script and LlamaFirewall do). */
  whitespaceMitigation?: boolean;
  /** A request needing more segments is refused with a `bad_input` error; default 4096. */
  maxSegments?: number;
}

export const PROMPT_GUARD_DEFAULTS = {
  temperature: 1,
  timeoutMs: 5000,
  maxBatchSize: 16,
  batchWaitMs: 0,
  cacheSize: 4096,
  whitespaceMitigation: true,
  maxSegments: 4096,
} as const;

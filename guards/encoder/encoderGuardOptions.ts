/** Options every encoder-classifier guard (Prompt Guard, the content-safety encoder) shares. */
export interface EncoderGuardOptions {
  /** Name the policy uses (e.g. `prompt_guard`, `llama_guard`). */
  name: string;
  /** Model directory in Hugging Face layout (config.json, tokenizer.json, tokenizer_config.json, ONNX file). */
  modelDir: string;
  /** ONNX file variant: `quantized` loads onnx/model_quantized.onnx. */
  variant?: string;
  /** Model identity recorded in verdicts; defaults to the directory name (plus `:variant`). */
  model?: string;
  /** softmax temperature; Meta's default 1.0. */
  temperature?: number;
  /** Budget for one check; past it the verdict carries a `timeout` error. With the two below, the base of a budget that grows with the text. */
  timeoutMs?: number;
  /** Added to the budget per 1,000 tokens of text (estimated as characters / 4; runtime/timeoutBudget.ts); default 0. */
  timeoutPer1kTokensMs?: number;
  /** Cap on the grown budget; default none. */
  maxTimeoutMs?: number;
  /** onnxruntime intra-op threads; default half the cores, at most 4. */
  intraOpThreads?: number;
  /** Segments per ONNX run; default 16 (Meta's reference). */
  maxBatchSize?: number;
  /**
   * How long a segment may wait for others to share its run; default 0: no timer, the batch goes
   * at the next event-loop turn (under load, batches fill while the previous run is in the worker).
   */
  batchWaitMs?: number;
  /**
   * A lone segment measured at load to score within this many ms runs on the main thread instead
   * of the worker (the two thread hops would cost more than the hold); default 2, 0: never.
   */
  inlineBudgetMs?: number;
  /** A lone segment of at most this many tokens runs inline, instead of the measured length. */
  inlineMaxTokens?: number;
  /** Per-text results kept (LRU); 0 disables caching (texts and rows). Default 4096. */
  cacheSize?: number;
  /** Per-row (segment, fine window) model outputs kept (LRU); default 16384. */
  rowCacheSize?: number;
  /** Segment window; defaults to the model's (512). May only shrink it. */
  maxLength?: number;
  /** Meta's whitespace-attack mitigation (remove spaces that split larger tokens apart). */
  whitespaceMitigation?: boolean;
  /** A request needing more segments and fine windows is refused with a `bad_input` error; default 16384. */
  maxSegments?: number;
  /**
   * Fine-grained windows (text/fineWindows.ts): a text longer than this many tokens is also
   * scored in windows of whole lines and sentences of at most this many tokens. Default: the
   * model's config.json `fine_windows.max_tokens` (the bundled models were trained on them),
   * else 0 (segments only). 0 turns them off.
   */
  fineWindowTokens?: number;
}

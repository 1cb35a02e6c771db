/** Options of a Prompt Guard guard, with the defaults the brief and Meta's reference use. */

import type { EncoderGuardOptions } from '../encoder/encoderGuardOptions';

/** Prompt Guard: the shared encoder options; whitespace mitigation defaults on (Meta's v1 script and LlamaFirewall apply it). */
export type PromptGuardOptions = EncoderGuardOptions;

export const PROMPT_GUARD_DEFAULTS = {
  temperature: 1,
  timeoutMs: 5000,
  maxBatchSize: 16,
  batchWaitMs: 0,
  cacheSize: 4096,
  whitespaceMitigation: true,
  maxSegments: 16384,
} as const;

/** Prompt Guard on a classification server (remote.ts): TEI's /predict or vLLM's /classify. */
export interface RemotePromptGuardOptions {
  name: string;
  backend: 'tei' | 'vllm';
  /** The server's root URL (no /v1), or several replicas of it. */
  url: string | readonly string[];
  /** The served model: sent to vLLM, recorded in verdicts. */
  model: string;
  apiKey?: string;
  /** The model's id2label in index order, when it is not Meta's (serverScores.ts labelOrder). */
  labels?: readonly string[];
  temperature?: number;
  timeoutMs?: number;
  timeoutPer1kTokensMs?: number;
  maxTimeoutMs?: number;
  /** Segments per request; default 32 (TEI's default --max-client-batch-size). */
  maxBatchSize?: number;
  /** Requests one check keeps in flight; default 4. */
  maxConcurrentRequests?: number;
  /** Texts whose result is kept (LRU); 0: no caching at all. Default 4096. */
  cacheSize?: number;
  /** Segments and windows whose scores are kept (LRU); default 16384. */
  rowCacheSize?: number;
  /** Fine-window size in estimated tokens (charSegments.ts); default 0 (off: Meta's models have no fine-window training). */
  fineWindowTokens?: number;
  /** A check needing more segments and windows is refused (`bad_input`); default 16384. */
  maxSegments?: number;
  /** A folder with the served model's tokenizer.json: each text is also scored after Meta's whitespace-attack fix. */
  tokenizerDir?: string;
  healthIntervalMs?: number;
  log?: (line: string) => void;
}

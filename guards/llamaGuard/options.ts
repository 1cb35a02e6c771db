/** Options of the Llama Guard 3 guard, one shape per backend, discriminated on `backend`. */
import type { InferenceSession } from 'onnxruntime-node';
import type { CategoryMap, LlamaGuardVariant } from './categories';
import type { SystemTurnRule } from './turns';

export interface LlamaGuardCommonOptions {
  /** Name the policy uses for this guard. */
  name: string;
  /** Which published prompt template to reproduce (S14 and edge spacing differ). */
  variant: LlamaGuardVariant;
  /** Custom categories (key -> text, rendered `key: text`; end the text with a period like the defaults). Replace the defaults. */
  categories?: CategoryMap;
  /** Category keys left out of the prompt and dropped from answers. */
  excludedCategories?: string[];
  /** Whole-check deadline; past it the verdict is a `timeout` error. Default 10000. */
  timeoutMs?: number;
  /** What system turns become (see turns.ts). Default `as_user`. */
  systemTurns?: SystemTurnRule;
}

/**
 * ONNX file suffix of Optimum / transformers.js exports: `fp16` loads `onnx/model_fp16.onnx`;
 * the published ones are fp16, int8, uint8, quantized, q4, q4f16. Unset (or `fp32`): `model.onnx`.
 */
export type OnnxModelVariant = string;

export interface LlamaGuardOnnxOptions extends LlamaGuardCommonOptions {
  backend: 'onnx';
  /** Model directory: config.json, tokenizer.json, model.onnx or onnx/model*.onnx. */
  modelDir: string;
  /** Which export file to load; default `model.onnx`. */
  onnxVariant?: OnnxModelVariant;
  /** Model identity recorded in verdicts; default the directory's name. */
  model?: string;
  /** Cap on generated tokens (the forced `\n\n`, the decision, the category line). Default 32. */
  maxNewTokens?: number;
  /** Longest prompt accepted; default the config's max_position_embeddings minus maxNewTokens. */
  maxPromptTokens?: number;
  /** Overrides the stop ids read from config.json / generation_config.json / `<|eot_id|>`. */
  stopTokenIds?: number[];
  /** onnxruntime intra-op threads (ignored when sessionOptions sets its own). */
  intraOpThreads?: number;
  /** Added to timeoutMs per 1,000 tokens of conversation (characters / 4; runtime/timeoutBudget.ts); default 0: a long prompt takes the decoder longer to read. */
  timeoutPer1kTokensMs?: number;
  /** Cap on the grown budget; default none. */
  maxTimeoutMs?: number;
  /** Passed to onnxruntime as is. */
  sessionOptions?: InferenceSession.SessionOptions;
}

/** `chat`: the server applies its own template. `completions`: we send the rendered prompt. */
export type RemoteMode = 'chat' | 'completions';

export interface LlamaGuardRemoteOptions extends LlamaGuardCommonOptions {
  backend: 'openai';
  /** Including the `/v1` suffix, e.g. `http://vllm:8000/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Served model name, e.g. `meta-llama/Llama-Guard-3-8B` or `llama-guard3:8b`. */
  model: string;
  /** Default `chat`, or `completions` when custom categories or exclusions are set (required then). */
  mode?: RemoteMode;
  /** Ask for logprobs to score P(unsafe); default true. Without them the score is 0 or 1. */
  logprobs?: boolean;
  /** Default 32. */
  maxTokens?: number;
  /**
   * Completions mode: the server always prepends its own BOS (TGI, llama.cpp), so the prompt is sent
   * without its leading `<|begin_of_text|>`. Default false: the full prompt is sent with vLLM's
   * `add_special_tokens: false`, so no second BOS is added.
   */
  serverAddsBos?: boolean;
}

export type LlamaGuardOptions = LlamaGuardOnnxOptions | LlamaGuardRemoteOptions;

export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * 20 in Meta's examples; a bit more here because an answer that hits the cap is an error, and
 * `unsafe` + a long code list (`,S` and the digits are separate tokens) can pass 20.
 */
export const DEFAULT_MAX_NEW_TOKENS = 32;

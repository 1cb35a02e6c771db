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

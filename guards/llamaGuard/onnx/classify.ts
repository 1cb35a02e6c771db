/**
 * The Llama Guard 3 scoring recipe on a local decoder (how Meta computes the model cards' AUPRC):
 * run the prompt, append the template's first generated token `\n\n` through the KV cache, read
 * P(unsafe) from the `safe` / `unsafe` logits at the next position, then greedily decode the rest
 * of the answer (the category line) from that decision until a stop token or the token limit.
 * The loop itself runs in the ONNX worker thread (workerLoop.ts); this is its entry point.
 */
import type { GuardTokenIds } from './guardTokens';
import type { OnnxDecoder } from './decoderClient';

export interface Classification {
  /** softmax over the [safe, unsafe] logits after `\n\n`. */
  pUnsafe: number;
  /** Generated ids after `\n\n`: the decision token, then the greedy continuation (stop token excluded). */
  generated: number[];
  stoppedBy: 'stop' | 'limit';
}

/**
 * @param maxNewTokens cap on generated tokens, counting the forced `\n\n` and the decision.
 * @param signal stops the loop between decoder steps (a running step cannot be interrupted).
 */
export async function classifyPromptIds(
  decoder: OnnxDecoder,
  tokens: GuardTokenIds,
  promptIds: readonly number[],
  maxNewTokens: number,
  signal?: AbortSignal,
): Promise<Classification> {
  if (maxNewTokens < 2) throw new Error('maxNewTokens must be at least 2 (the forced \\n\\n and the decision)');
  return decoder.classify(tokens, promptIds, maxNewTokens, signal);
}

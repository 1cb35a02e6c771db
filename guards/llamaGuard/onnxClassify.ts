/**
 * The Llama Guard 3 scoring recipe on a local decoder (how Meta computes the model cards' AUPRC):
 * run the prompt, append the template's first generated token `\n\n` through the KV cache, read
 * P(unsafe) from the `safe` / `unsafe` logits at the next position, then greedily decode the rest
 * of the answer (the category line) from that decision until a stop token or the token limit.
 */
import type { GuardTokenIds } from './guardTokens';
import { argmax, type OnnxDecoder } from './onnxDecoder';
import { unsafeProbability } from './score';

export interface Classification {
  /** softmax over the [safe, unsafe] logits after `\n\n`. */
  pUnsafe: number;
  /** Generated ids after `\n\n`: the decision token, then the greedy continuation (stop token excluded). */
  generated: number[];
  stoppedBy: 'stop' | 'limit';
}

/**
 * @param maxNewTokens cap on generated tokens, counting the forced `\n\n` and the decision.
 * @param signal checked between decoder steps (a running step cannot be interrupted).
 */
export async function classifyPromptIds(
  decoder: OnnxDecoder,
  tokens: GuardTokenIds,
  promptIds: readonly number[],
  maxNewTokens: number,
  signal?: AbortSignal,
): Promise<Classification> {
  if (maxNewTokens < 2) throw new Error('maxNewTokens must be at least 2 (the forced \\n\\n and the decision)');
  const stop = new Set(tokens.stopIds);
  let step = await decoder.forward(promptIds, decoder.emptyCache());
  signal?.throwIfAborted();
  step = await decoder.forward([tokens.newlines], step.cache);
  const pUnsafe = unsafeProbability(step.lastLogits[tokens.safe]!, step.lastLogits[tokens.unsafe]!);
  // A tie goes to unsafe: when the guard cannot tell, the policy should see the worse case.
  const generated = [pUnsafe >= 0.5 ? tokens.unsafe : tokens.safe];
  while (1 + generated.length < maxNewTokens) {
    signal?.throwIfAborted();
    step = await decoder.forward([generated[generated.length - 1]!], step.cache);
    const next = argmax(step.lastLogits);
    if (stop.has(next)) return { pUnsafe, generated, stoppedBy: 'stop' };
    generated.push(next);
  }
  return { pUnsafe, generated, stoppedBy: 'limit' };
}

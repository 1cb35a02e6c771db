/**
 * vLLM's classification API serving a sequence-classification model (`vllm serve
 * meta-llama/Prompt-Guard-86M --task classify`): `POST /classify` (vllm/entrypoints, protocol
 * ClassificationRequest / ClassificationResponse):
 * - request `{"model": "...", "input": ["text 1", "text 2"]}` (no `truncate_prompt_tokens`:
 *   an over-long input must fail, not be cut);
 * - response `{"data": [{"index": 0, "label": "JAILBREAK", "probs": [p0, p1, p2], "num_classes":
 *   3}, ...]}`: softmax probabilities in the model's id2label order, and the top label's name
 *   (some builds name the field `probabilities`);
 * - errors: `{"object": "error", "message": ..., "code": 400}` or `{"error": {"message": ...}}`;
 *   an over-long input is a 400 ("maximum context length is 512 tokens").
 * Probabilities are turned back into logits (their log: softmax of log p / T equals softmax of
 * logits / T, so the temperature means what it means locally).
 */
import { z } from 'zod';
import { isDistribution, type ServerScores } from './serverScores';

export function vllmClassifyBody(model: string, texts: readonly string[]): Record<string, unknown> {
  return { model, input: [...texts] };
}

const item = z.object({
  index: z.number().int(),
  label: z.string().nullish(),
  probs: z.array(z.number()).optional(),
  probabilities: z.array(z.number()).optional(),
});
const classifyResponse = z.object({ data: z.array(item) });

export function readVllmClassify(json: unknown, count: number): ServerScores {
  const parsed = classifyResponse.safeParse(json);
  if (!parsed.success) return { ok: false, error: 'vLLM /classify answer has no data list of {index, probs}' };
  const data = [...parsed.data.data].sort((a, b) => a.index - b.index);
  if (data.length !== count || data.some((d, i) => d.index !== i)) return { ok: false, error: `vLLM /classify answered ${data.length} results for ${count} inputs` };
  const rows = [];
  for (const d of data) {
    const probs = d.probs ?? d.probabilities;
    if (!probs || probs.length < 2) return { ok: false, error: 'vLLM /classify answer has no class probabilities' };
    // Probabilities or nothing: a server with its activation off sends logits, whose log would be
    // scored as if softmaxed (a jailbreak at 0.98 read as 0.83), and all-zero rows mean nothing.
    if (!isDistribution(probs)) return { ok: false, error: `vLLM /classify answer's probs [${probs.slice(0, 4).join(', ')}${probs.length > 4 ? ', ...' : ''}] are not probabilities (each in [0, 1], summing to 1); is the server's softmax activation off?` };
    rows.push({ byIndex: probs.map((p) => Math.log(Math.max(p, 1e-45))), topLabel: d.label ?? undefined });
  }
  return { ok: true, rows };
}

const vllmError = z.union([
  z.object({ message: z.string(), object: z.literal('error') }).transform((e) => e.message),
  z.object({ error: z.object({ message: z.string() }) }).transform((e) => e.error.message),
  z.object({ detail: z.string() }).transform((e) => e.detail),
]);

export function readVllmError(json: unknown): { message: string } | undefined {
  const parsed = vllmError.safeParse(json);
  return parsed.success ? { message: parsed.data } : undefined;
}

export function vllmSaysTooLong(status: number, message: string): boolean {
  return status === 400 && /maximum (context|model) length|longer than the maximum|too long|max_model_len/i.test(message);
}

/**
 * Hugging Face text-embeddings-inference (TEI) serving a sequence-classification model (Prompt
 * Guard): `POST /predict`. Shapes as TEI's router defines them (router/src/http/types.rs):
 * - request `{"inputs": [["text 1"], ["text 2"]], "truncate": false, "raw_scores": true}`: a batch
 *   is a list of one-element lists (a bare `["a", "b"]` would be one text PAIR, not two texts);
 *   `truncate: false` makes an over-long input an error instead of silently cutting its end off
 *   (a bypass); `raw_scores: true` returns logits, so the gateway applies its own temperature;
 * - response: per input, every label of the model's id2label with its score, `[[{"label":
 *   "JAILBREAK", "score": 4.2}, ...], ...]` (a single input may come back as one flat list);
 * - errors: `{"error": "...", "error_type": "Validation" | "Tokenizer" | "Backend" |
 *   "Overloaded" | "Unhealthy" | "Empty"}` with 413, 422, 424, 429, 503, 400; an input over the
 *   model's window is a 413 Validation error ("`inputs` must have less than 512 tokens").
 */
import { z } from 'zod';
import type { ServerScores } from './serverScores';

export function teiPredictBody(texts: readonly string[]): Record<string, unknown> {
  return { inputs: texts.map((t) => [t]), truncate: false, raw_scores: true };
}

const prediction = z.object({ label: z.string(), score: z.number() });
const predictResponse = z.union([z.array(z.array(prediction)), z.array(prediction)]);

/** Logits per input, by label name. */
export function readTeiPredict(json: unknown, count: number): ServerScores {
  const parsed = predictResponse.safeParse(json);
  if (!parsed.success) return { ok: false, error: 'TEI /predict answer is not a list of {label, score} lists' };
  const data = parsed.data;
  const rows = data.length > 0 && !Array.isArray(data[0]) ? [data as z.infer<typeof prediction>[]] : (data as z.infer<typeof prediction>[][]);
  if (rows.length !== count) return { ok: false, error: `TEI /predict answered ${rows.length} results for ${count} inputs` };
  // A label named twice: which of its scores is meant cannot be known (the last one read would win).
  if (rows.some((r) => new Set(r.map((p) => p.label)).size !== r.length)) return { ok: false, error: 'TEI /predict answer names a label twice in one result' };
  return { ok: true, rows: rows.map((r) => ({ byLabel: new Map(r.map((p) => [p.label, p.score])) })) };
}

const teiError = z.object({ error: z.string(), error_type: z.string().optional() });

export function readTeiError(json: unknown): { message: string; type?: string } | undefined {
  const parsed = teiError.safeParse(json);
  return parsed.success ? { message: parsed.data.error, type: parsed.data.error_type } : undefined;
}

/** TEI's answer to an input longer than the model's window. */
export function teiSaysTooLong(status: number, message: string): boolean {
  return status === 413 && /tokens|too long|max(imum)? length/i.test(message) && !/batch size/i.test(message);
}

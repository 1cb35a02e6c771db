import { z } from 'zod';

/**
 * Scripted answers for tests: `POST /dev/script` queues one; the next `times` completions use it.
 * Faults let tests reproduce what real engines do wrong.
 */
export const ScriptEntry = z.strictObject({
  /** Exact answer text. */
  reply: z.string().optional(),
  times: z.number().int().min(1).max(10_000).default(1),
  /** Answer with this HTTP error status and an OpenAI-shaped error body instead. */
  status: z.number().int().min(400).max(599).optional(),
  /** Wait this long before the first byte. */
  delay_ms: z.number().int().min(0).max(600_000).optional(),
  /** Never answer (until the client gives up). */
  hang: z.boolean().optional(),
  /** Streamed: send the headers at once, as vLLM does, and only then wait `delay_ms` (or `hang`) before the first event. */
  headers_first: z.boolean().optional(),
  /** Streaming: destroy the connection after this many content chunks. */
  drop_after_chunks: z.number().int().min(0).optional(),
  /** Tool calls the assistant answers with (name + JSON arguments string). */
  tool_calls: z.array(z.strictObject({ name: z.string(), arguments: z.string() })).optional(),
  /** Per-chunk delay override for streams. */
  token_delay_ms: z.number().int().min(0).max(10_000).optional(),
  /** Not streamed: answer with exactly this JSON value (any shape: tests of what engines get wrong, or of fields the dev engine never writes). */
  raw_json: z.unknown().optional(),
  /** With `status`: the error body's message (default `scripted failure <status>`), as engines quote a request back in theirs. */
  error_message: z.string().max(10_000).optional(),
  /** With `status`: the error body's `code` and `param` (default null), which engines fill as they like. */
  error_code: z.string().max(10_000).optional(),
  error_param: z.string().max(10_000).optional(),
  /** With `status`: a Retry-After header (seconds), as an overloaded server sends with 429 or 503. */
  retry_after: z.number().int().min(0).optional(),
  /** Not streamed: answer with exactly this text as an application/json body (JSON no object can spell: a member named twice). */
  raw_body: z.string().optional(),
  /** As raw_body, given as base64: bytes no JSON string can carry (invalid UTF-8). */
  raw_body_base64: z.string().optional(),
  /** Streamed: write exactly these SSE events, each followed by a blank line (write `data: [DONE]` yourself, or leave it out). */
  raw_events: z.array(z.string()).optional(),
});
export type ScriptEntry = z.infer<typeof ScriptEntry>;

export class ScriptQueue {
  private readonly entries: { entry: ScriptEntry; remaining: number }[] = [];

  push(entry: ScriptEntry): void {
    this.entries.push({ entry, remaining: entry.times });
  }

  /** Takes the script for the next completion, if any. */
  next(): ScriptEntry | undefined {
    const head = this.entries[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.entries.shift();
    return head.entry;
  }

  clear(): void {
    this.entries.length = 0;
  }

  get size(): number {
    return this.entries.length;
  }
}

/** Splits an answer into stream chunks of about one word, keeping every character (spaces included). */
export function chunkAnswer(text: string): string[] {
  const chunks = text.match(/\s*\S+|\s+$/g);
  return chunks ?? (text.length ? [text] : []);
}

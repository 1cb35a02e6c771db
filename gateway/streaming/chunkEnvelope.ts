import { ENVELOPE_STRUCTURE } from '../pipeline/extract/answerLanes';
import { plainEnvelope, type AnswerContext } from '../pipeline/extract/bookkeeping';
import type { StreamChunk } from './answerAccumulator';

/**
 * A stream chunk's bookkeeping (id, model, usage, choices ...) without members the gateway does
 * not know, and with only plain bookkeeping values (bookkeeping.ts): the others were read as answer
 * text, so a chunk sent after a block (the engine's usage, which clients count tokens by) goes out
 * without them. A chunk whose envelope this leaves as it was can still be relayed as sent.
 */
export function knownEnvelope(chunk: StreamChunk, context: AnswerContext): StreamChunk {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(chunk)) if (ENVELOPE_STRUCTURE.has(key)) out[key] = value;
  return plainEnvelope(out, context, chunk.object === 'text_completion' ? 'text_completion' : 'chat.completion.chunk') as StreamChunk;
}

/**
 * The engine's usage as a blocked stream may still send it (`include_usage`): the last held chunk
 * that carries usage (a usage-only chunk, or usage riding on a choice's chunk, as with vLLM's
 * continuous usage stats), without its choices; undefined when none does.
 */
export function usageAfterBlock(chunks: readonly (StreamChunk | undefined)[], context: AnswerContext): string | undefined {
  for (let i = chunks.length - 1; i >= 0; i--) {
    const chunk = chunks[i];
    if (chunk?.usage) return `data: ${JSON.stringify({ ...knownEnvelope(chunk, context), choices: [] })}\n\n`;
  }
  return undefined;
}

import { ENVELOPE_STRUCTURE } from '../pipeline/extract/answerLanes';
import { plainEnvelope, type AnswerContext } from '../pipeline/extract/bookkeeping';
import type { ChunkMeta, StreamChunk } from './answerAccumulator';

/** What reading a stream found of its bookkeeping (AnswerAccumulator): values read as text are never written again. */
export interface StreamReading {
  context: AnswerContext;
  /** The members (id, system_fingerprint, model) a later chunk changed: each value was read as answer text. */
  changedMembers: ReadonlySet<string>;
  /** The plain id and model the gateway writes in their place. */
  writableMeta: ChunkMeta;
}

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
 * A chunk's envelope as the gateway may write it after a block: knownEnvelope, and for a member whose
 * change was read as text (it may be what was blocked: `id: "zzs11"` on the usage chunk), the
 * gateway's own value or nothing, never the engine's.
 */
export function writableEnvelope(chunk: StreamChunk, reading: StreamReading): StreamChunk {
  const envelope = knownEnvelope(chunk, reading.context) as unknown as Record<string, unknown>;
  for (const member of reading.changedMembers) {
    const own = member === 'id' || member === 'model' ? reading.writableMeta[member] : undefined;
    if (own) envelope[member] = own;
    else delete envelope[member];
  }
  return envelope as unknown as StreamChunk;
}

/**
 * The engine's usage as a blocked stream may still send it (`include_usage`): the last held chunk
 * that carries usage (a usage-only chunk, or usage riding on a choice's chunk, as with vLLM's
 * continuous usage stats), without its choices; undefined when none does.
 */
export function usageAfterBlock(chunks: readonly (StreamChunk | undefined)[], reading: StreamReading): string | undefined {
  for (let i = chunks.length - 1; i >= 0; i--) {
    const chunk = chunks[i];
    if (chunk?.usage) return `data: ${JSON.stringify({ ...writableEnvelope(chunk, reading), choices: [] })}\n\n`;
  }
  return undefined;
}

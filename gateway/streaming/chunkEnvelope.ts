import { ENVELOPE_STRUCTURE } from '../pipeline/extract/answerLanes';
import type { StreamChunk } from './answerAccumulator';

/**
 * A stream chunk's bookkeeping (id, model, usage, choices ...) without members the gateway does
 * not know: those were read as answer text, so a chunk sent after a block (the engine's usage,
 * which clients count tokens by) goes out without them.
 */
export function knownEnvelope(chunk: StreamChunk): StreamChunk {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(chunk)) if (ENVELOPE_STRUCTURE.has(key)) out[key] = value;
  return out as StreamChunk;
}

/** The usage-only chunk of a blocked stream as it may still go out (`include_usage`), or undefined. */
export function usageAfterBlock(chunk: StreamChunk | undefined): string | undefined {
  if (!chunk || chunk.choices.length > 0 || !chunk.usage) return undefined;
  return `data: ${JSON.stringify({ ...knownEnvelope(chunk), choices: [] })}\n\n`;
}

/**
 * Which conversations one input check reads. A turn marked `alone` (ChatTurn.alone: each prompt of
 * a /v1/completions list, which the engine completes on its own) is read as a conversation of its
 * own; the other turns together, as one. Merged into one User turn, as Llama Guard's alternating
 * template would merge them, a harmless prompt beside a harmful one dilutes it while the engine
 * completes the harmful one alone.
 *
 * Output checks read the conversation whole: the answer is judged in the context the request gave.
 */
import type { ChatTurn, Direction } from '../types';

export function conversationsToRead(conversation: readonly ChatTurn[], direction: Direction): ChatTurn[][] {
  if (direction !== 'input' || !conversation.some((turn) => turn.alone)) return [[...conversation]];
  const together = conversation.filter((turn) => !turn.alone);
  const apart = conversation.filter((turn) => turn.alone && turn.content.trim() !== '').map((turn) => [turn]);
  const all = [...(together.length ? [together] : []), ...apart];
  // Every turn empty: still one conversation to classify (normalizeTurns keeps a last empty turn).
  return all.length ? all : [[conversation[conversation.length - 1]!]];
}

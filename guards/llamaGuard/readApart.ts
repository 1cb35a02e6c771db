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
import type { SystemTurnRule } from './turns';

export function conversationsToRead(conversation: readonly ChatTurn[], direction: Direction, system: SystemTurnRule = 'as_user'): ChatTurn[][] {
  if (direction !== 'input' || !conversation.some((turn) => turn.alone)) return [[...conversation]];
  // Turns the guard drops (system turns under `drop`) are no reading of their own.
  const together = conversation.filter((turn) => !turn.alone && !(system === 'drop' && turn.role === 'system'));
  const apart = conversation.filter((turn) => turn.alone && turn.content.trim() !== '').map((turn) => [turn]);
  const all = [...(together.length ? [together] : []), ...apart];
  // Every turn empty: still one conversation to classify (normalizeTurns keeps a last empty turn).
  return all.length ? all : [[conversation[conversation.length - 1]!]];
}

/** About what Llama Guard 3's template adds to each call: its task, the 14 categories, the instructions. */
const TEMPLATE_CHARS = 1_000;

/**
 * Characters a check's model calls read beyond the conversation's own: the template once more per
 * extra reading. A check's deadline grows with its text (timeoutBudget.ts), so 16 short prompts
 * read apart get the time their 16 calls take, not that of one call (timed out, a guard error).
 */
export function extraReadingChars(conversation: readonly ChatTurn[], direction: Direction): number {
  if (direction !== 'input' || !conversation.some((turn) => turn.alone)) return 0;
  return (conversationsToRead(conversation, direction).length - 1) * TEMPLATE_CHARS;
}

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
import type { CheckOutcome } from './run';
import { assessmentScore } from './verdict';

export function conversationsToRead(conversation: readonly ChatTurn[], direction: Direction): ChatTurn[][] {
  if (direction !== 'input' || !conversation.some((turn) => turn.alone)) return [[...conversation]];
  const together = conversation.filter((turn) => !turn.alone);
  const apart = conversation.filter((turn) => turn.alone && turn.content.trim() !== '').map((turn) => [turn]);
  const all = [...(together.length ? [together] : []), ...apart];
  // Every turn empty: still one conversation to classify (normalizeTurns keeps a last empty turn).
  return all.length ? all : [[conversation[conversation.length - 1]!]];
}

/**
 * Pure: the outcome that stands for several readings of one check. An error, or an answer that
 * could not be read, stands first (the policy's on_error decides, never a silent safe); otherwise
 * the highest score, `unsafe` before `safe` at the same score.
 */
export function worstOutcome(outcomes: readonly CheckOutcome[]): CheckOutcome {
  if (outcomes.length === 0) throw new Error('no outcome to choose from');
  const failed = outcomes.find((o) => o.kind === 'error' || !o.assessment.ok);
  if (failed) return failed;
  const rank = (o: CheckOutcome): number => {
    if (o.kind !== 'assessed' || !o.assessment.ok) return Infinity;
    return assessmentScore(o.assessment, o.pUnsafe) * 2 + (o.assessment.label === 'unsafe' && !o.assessment.excludedOnly ? 1 : 0);
  };
  return outcomes.reduce((worst, o) => (rank(o) > rank(worst) ? o : worst));
}

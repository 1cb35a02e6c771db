/**
 * Turns real chat traffic into the strictly alternating User/Agent conversation Llama Guard 3 was
 * trained on (its templates reject anything else).
 *
 * The rule, in order:
 * 1. Roles. `user` -> User. `assistant` -> Agent; its tool calls are appended to its text, one
 *    `name(arguments)` line each, after a newline (a tool call is something the model said and did,
 *    and S14 Code Interpreter Abuse is judged on exactly that). `tool` results -> User: they are
 *    third-party input the engine reads, not words the model produced, and on an input check the
 *    request usually ends with them, so they must be what the guard classifies. `system` -> User
 *    (default) or dropped (`system: 'drop'`): the gateway's client writes the system prompt just as
 *    it writes user turns, so dropping it by default would let harmful instructions ride in it
 *    unchecked; it lands in (is merged into) the first user turn.
 * 2. On an input check, trailing assistant turns (a "prefill" the client wrote for the engine to
 *    continue) count as User: the client, not the model, wrote them, and they are the last thing the
 *    engine reads. On an output check the last turn must be the assistant's answer.
 * 3. Turns whose text is empty after trimming are dropped, except the last turn (the one classified).
 * 4. Consecutive turns of the same role are merged, texts joined by a blank line.
 * 5. If the result starts with Agent, an empty User turn is put first (the template requires User
 *    first; relabelling the agent text would misattribute it).
 * Every text passes through neutralizeMarkers so no turn can forge the prompt's structure.
 *
 * What reaches it (the gateway's extraction, gateway/pipeline/extract/conversation.ts): every
 * message whatever its role (`developer` arrives as `system`, legacy `function` results as
 * `tool`), each holding all its texts (names, refusals, reasoning, unknown members), and tool
 * definitions and documents as a first `system` turn: all of it is read, none dropped here.
 */
import type { ChatTurn, Direction } from '../types';
import { neutralizeMarkers } from './escape';
import { pythonStrip } from './strip';

export type GuardRole = 'User' | 'Agent';

export interface GuardTurn {
  role: GuardRole;
  text: string;
}

export type SystemTurnRule = 'as_user' | 'drop';

export interface NormalizeOptions {
  /** What system turns become; default `as_user` (see the rule above). */
  system?: SystemTurnRule;
}

/** The conversation cannot be classified as asked (becomes a `bad_input` verdict). */
export class TurnNormalizationError extends Error {
  override readonly name = 'TurnNormalizationError';
}

/** The role whose last message the guard classifies. */
export function roleFor(direction: Direction): GuardRole {
  return direction === 'input' ? 'User' : 'Agent';
}

/** An assistant turn's text: its content, then one line per tool call. */
export function assistantText(turn: ChatTurn): string {
  return [pythonStrip(turn.content), ...(turn.toolCalls ?? []).map(pythonStrip)].filter((s) => s !== '').join('\n');
}

export function normalizeTurns(
  conversation: readonly ChatTurn[],
  direction: Direction,
  options: NormalizeOptions = {},
): GuardTurn[] {
  if (conversation.length === 0) throw new TurnNormalizationError('empty conversation');
  const systemRule = options.system ?? 'as_user';
  const last = conversation[conversation.length - 1]!;
  if (direction === 'output' && last.role !== 'assistant') {
    throw new TurnNormalizationError(`output check needs the assistant's answer as the last turn, got role '${last.role}'`);
  }

  // Index from which assistant turns count as User on an input check (step 2).
  let prefillStart = conversation.length;
  if (direction === 'input') {
    while (prefillStart > 0 && conversation[prefillStart - 1]!.role === 'assistant') prefillStart--;
  }

  const mapped: GuardTurn[] = [];
  conversation.forEach((turn, i) => {
    if (turn.role === 'system' && systemRule === 'drop') return;
    const isAgent = turn.role === 'assistant' && i < prefillStart;
    // A decoder reads the turn whole, as the template renders it: its ids on lines of their own.
    const words = turn.role === 'assistant' ? assistantText(turn) : pythonStrip(turn.content);
    const text = [words, ...(turn.apart ?? []).map(pythonStrip)].filter((s) => s !== '').join('\n');
    const isLast = i === conversation.length - 1;
    if (text === '' && !isLast) return;
    mapped.push({ role: isAgent ? 'Agent' : 'User', text: neutralizeMarkers(text) });
  });
  if (mapped.length === 0) throw new TurnNormalizationError('no turn left to classify');

  // Each run of one role joined once (joining into a growing string took time squared in its turns).
  const runs: { role: GuardRole; texts: string[] }[] = [];
  for (const turn of mapped) {
    const prev = runs[runs.length - 1];
    if (prev && prev.role === turn.role) prev.texts.push(turn.text);
    else runs.push({ role: turn.role, texts: [turn.text] });
  }
  const merged: GuardTurn[] = runs.map((run) => ({ role: run.role, text: run.texts.filter((s) => s !== '').join('\n\n') }));
  if (merged[0]!.role === 'Agent') merged.unshift({ role: 'User', text: '' });

  // Steps 1-5 guarantee this; checked so a future edit cannot silently send a malformed conversation.
  const want = roleFor(direction);
  if (merged[merged.length - 1]!.role !== want) {
    throw new TurnNormalizationError(`conversation must end with a ${want} turn for an ${direction} check`);
  }
  return merged;
}

/**
 * Which turns the content-safety encoder classifies, and with which template role.
 *
 * Input: every turn the engine will read, whatever its role: system and developer prompts, user
 * turns, tool results (template role `user`: words the model did not write) and earlier assistant
 * turns (template role `assistant`). Clients resend (and can rewrite) the whole history with each
 * call, so every turn is as much the client's text as the last one; the per-text cache makes
 * re-checking unchanged turns nearly free. Each run of consecutive short turns (at most
 * SHORT_TURN_WORDS words each, any role) is also classified as one text, joined by a space: a
 * request split one word per message is harmless turn by turn and harmful whole. Only short turns:
 * a turn long enough to say something is classified on its own, and joining every turn of a
 * growing chat would rescan its tail on every request. A space, not a newline: the bundled encoder
 * scores a sentence split by newlines as safe. `userTurns: 'last'` restores Llama Guard's "last
 * user message" scope instead. Without a conversation, the request's texts are used (every
 * source).
 * A turn's ids (ChatTurn.apart: tool-call and item ids that are not random characters) are read
 * on their own and in a run of their own, never joined with words.
 * Output: the last assistant turn (the answer), its tool calls appended on their own lines.
 */
import type { ChatTurn, GuardRequest } from '../types';

export type TemplateRole = 'user' | 'assistant';

export interface TurnText {
  role: TemplateRole;
  path: string;
  text: string;
}

export type UserTurnScope = 'all' | 'last';

export function turnText(turn: ChatTurn): string {
  const calls = turn.toolCalls?.filter((c) => c.length > 0) ?? [];
  return calls.length ? [turn.content, ...calls].filter((s) => s.length > 0).join('\n') : turn.content;
}

/** Assistant words read with the template they were trained under; everything else is input to the model. */
function templateRole(role: ChatTurn['role']): TemplateRole {
  return role === 'assistant' ? 'assistant' : 'user';
}

export function selectTurns(request: GuardRequest, scope: UserTurnScope = 'all'): TurnText[] {
  const conversation = request.conversation ?? [];
  if (request.direction === 'output') {
    for (let i = conversation.length - 1; i >= 0; i--) {
      if (conversation[i].role === 'assistant') return [{ role: 'assistant', path: turnPath(conversation[i], i), text: turnText(conversation[i]) }];
    }
    return [];
  }
  if (conversation.length === 0) {
    const texts: TurnText[] = (request.texts ?? []).map((t) => ({ role: t.source === 'assistant' ? 'assistant' : 'user', path: t.path, text: t.text }));
    return withWhole(texts);
  }
  // A turn's parts joined with nothing (ChatTurn.glued), as some engines join them: read on its own beside the turn.
  const gluedOf = (turn: ChatTurn, i: number): TurnText[] => (turn.glued ? [{ role: templateRole(turn.role), path: `${turnPath(turn, i)}.glued`, text: turn.glued }] : []);
  if (scope === 'last') {
    const users = conversation.map((turn, i) => ({ turn, i })).filter(({ turn }) => turn.role === 'user');
    return users.slice(-1).flatMap(({ turn, i }) => [{ role: 'user' as const, path: turnPath(turn, i), text: turnText(turn) }, ...gluedOf(turn, i)]);
  }
  const turns: TurnText[] = conversation.map((turn, i) => ({ role: templateRole(turn.role), path: turnPath(turn, i), text: turnText(turn) }));
  const glued = conversation.flatMap(gluedOf);
  // Ids a turn carries (ChatTurn.apart): each read on its own, never joined to words, not even in a
  // run of short turns (joined there, an OpenAI-style id raised ordinary tool chats' scores: 0.29 -> 0.92).
  const ids: TurnText[] = conversation.flatMap((turn, i) => (turn.apart ?? []).filter((text) => text.trim() !== '').map((text, j) => ({ role: templateRole(turn.role), path: `${turnPath(turn, i)}.apart[${j}]`, text })));
  // Joined with each other, though (a phrase spread over several ids), never with words.
  return [...withWhole(turns), ...withWhole(ids), ...glued];
}

/** The turn's own name for verdicts (ChatTurn.path), else its place in the conversation. */
function turnPath(turn: ChatTurn, i: number): string {
  return turn.path ?? `conversation[${i}]`;
}

export const SHORT_TURN_WORDS = 16;

const wordCount = (text: string) => text.trim().split(/\s+/).filter(Boolean).length;

/** The turns, plus each run of two or more consecutive short turns as one text. */
function withWhole(turns: TurnText[]): TurnText[] {
  const nonEmpty = turns.filter((t) => t.text.trim() !== '');
  const joined: TurnText[] = [];
  let run: TurnText[] = [];
  const close = () => {
    if (run.length > 1) joined.push({ role: 'user', path: `joined@${run[0].path}..${run[run.length - 1].path}`, text: run.map((t) => t.text.trim()).join(' ') });
    run = [];
  };
  for (const t of nonEmpty) {
    if (wordCount(t.text) <= SHORT_TURN_WORDS) run.push(t);
    else close();
  }
  close();
  return [...nonEmpty, ...joined];
}

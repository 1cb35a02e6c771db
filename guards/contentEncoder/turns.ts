/**
 * Which turns the content-safety encoder classifies, and with which template role.
 *
 * Input: every turn the engine will read, whatever its role: system and developer prompts, user
 * turns, tool results (template role `user`: words the model did not write) and earlier assistant
 * turns (template role `assistant`). Clients resend (and can rewrite) the whole history with each
 * call, so every turn is as much the client's text as the last one; the per-text cache makes
 * re-checking unchanged turns nearly free. When there is more than one turn, the whole
 * conversation is also classified as one text (turns joined by a space, as Llama Guard reads the
 * conversation together): a request split one word per message is harmless turn by turn and
 * harmful whole. A space, not a newline: the bundled encoder scores a sentence split by newlines
 * as safe. `userTurns: 'last'` restores Llama Guard's "last user message" scope instead. Without a
 * conversation, the request's texts are used (every source).
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
      if (conversation[i].role === 'assistant') return [{ role: 'assistant', path: `conversation[${i}]`, text: turnText(conversation[i]) }];
    }
    return [];
  }
  if (conversation.length === 0) {
    const texts: TurnText[] = (request.texts ?? []).map((t) => ({ role: t.source === 'assistant' ? 'assistant' : 'user', path: t.path, text: t.text }));
    return withWhole(texts, 'texts');
  }
  if (scope === 'last') {
    const users = conversation.map((turn, i) => ({ turn, i })).filter(({ turn }) => turn.role === 'user');
    return users.slice(-1).map(({ turn, i }) => ({ role: 'user', path: `conversation[${i}]`, text: turnText(turn) }));
  }
  const turns: TurnText[] = conversation.map((turn, i) => ({ role: templateRole(turn.role), path: `conversation[${i}]`, text: turnText(turn) }));
  return withWhole(turns, 'conversation');
}

/** The turns, plus all of them as one text when there are several. */
function withWhole(turns: TurnText[], path: string): TurnText[] {
  const nonEmpty = turns.filter((t) => t.text.trim() !== '');
  if (nonEmpty.length < 2) return nonEmpty;
  return [...nonEmpty, { role: 'user', path, text: nonEmpty.map((t) => t.text).join(' ') }];
}

/**
 * Which turns the content-safety encoder classifies, and with which template role.
 *
 * Input: every user turn by default, not only the last. Clients resend (and can rewrite) the
 * whole history with each call, so an earlier turn is as much the client's text as the last
 * one; the per-text cache makes re-checking unchanged turns nearly free. `userTurns: 'last'`
 * restores Llama Guard's "last user message" scope. Without a conversation, the request's
 * texts whose source is `user` are used.
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

export function selectTurns(request: GuardRequest, scope: UserTurnScope = 'all'): TurnText[] {
  const conversation = request.conversation ?? [];
  if (request.direction === 'output') {
    for (let i = conversation.length - 1; i >= 0; i--) {
      if (conversation[i].role === 'assistant') return [{ role: 'assistant', path: `conversation[${i}]`, text: turnText(conversation[i]) }];
    }
    return [];
  }
  const users = conversation.map((turn, i) => ({ turn, i })).filter(({ turn }) => turn.role === 'user');
  if (users.length === 0) {
    return (request.texts ?? []).filter((t) => t.source === 'user').map((t) => ({ role: 'user', path: t.path, text: t.text }));
  }
  const chosen = scope === 'last' ? users.slice(-1) : users;
  return chosen.map(({ turn, i }) => ({ role: 'user', path: `conversation[${i}]`, text: turnText(turn) }));
}

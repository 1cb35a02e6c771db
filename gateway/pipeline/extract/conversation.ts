import type { ChatRole, ChatTurn, ScanText } from '../../../guards/types';
import type { ChatMessage } from '../requestSchemas';
import { randomId } from './bookkeeping';
import { gluedTurnText } from './gluedParts';
import { readableArguments } from './toolArguments';

/**
 * The conversation as a Llama Guard style guard reads it: one turn per message, whatever its
 * role, holding every text of that message (the same texts Prompt Guard scans, so both guards
 * see the same request). Tool definitions and documents come first, as one system turn: the
 * engine reads them before the messages.
 */
export function chatConversation(messages: readonly ChatMessage[], messageTexts: readonly ScanText[][], preamble: readonly ScanText[]): ChatTurn[] {
  const turns: ChatTurn[] = [];
  if (preamble.length > 0) turns.push({ role: 'system', content: preamble.map((t) => t.text).join(' '), path: membersOf(preamble) });
  messages.forEach((message, i) => {
    const texts = messageTexts[i] ?? [];
    const at = `messages[${i}]`;
    const name = texts.find((t) => t.path === `${at}.name`)?.text;
    // Ids are bookkeeping, not words (Prompt Guard scans them all): a random one is left out, any
    // other is read apart (an engine's template may render it; joined, a long one diluted the turn).
    const isId = (t: ScanText) => t.path === `${at}.tool_call_id` || (t.source === 'tool_call' && /\.id$/.test(t.path));
    const body = texts.filter((t) => t.source !== 'tool_call' && t.path !== `${at}.name` && !isId(t)).map((t) => t.text);
    const turn: ChatTurn = { role: turnRole(message.role), content: [name ? `${name}:` : '', ...body].filter((s) => s !== '').join(' '), path: at };
    const calls = toolCallLines(message, texts);
    if (calls.length) turn.toolCalls = calls;
    const apart = texts.filter((t) => isId(t) && !randomId(t.text)).map((t) => t.text);
    if (apart.length) turn.apart = apart;
    const glued = gluedTurnText(texts);
    if (glued !== undefined) turn.glued = glued;
    turns.push(turn);
  });
  return turns;
}

/** Pure: the top-level members a turn was read from (`tools+documents`), its path in verdicts (ChatTurn.path). */
export function membersOf(texts: readonly ScanText[]): string {
  return [...new Set(texts.map((t) => /^[^.[]*/.exec(t.path)![0]))].join('+');
}

/** `name(arguments)` per tool call and legacy function call; other strings of the calls (not their ids) follow as they are. */
function toolCallLines(message: ChatMessage, texts: readonly ScanText[]): string[] {
  const calls = [...(message.tool_calls ?? []).map((c) => c.function), ...(message.function_call ? [message.function_call] : [])];
  const lines = calls.filter((f) => f !== undefined).map((f) => `${f.name ?? 'tool'}(${readableArguments(f.arguments ?? '')})`);
  const others = texts.filter((t) => t.source === 'tool_call' && !/\.(function\.(name|arguments)|function_call\.(name|arguments)|id)$/.test(t.path)).map((t) => t.text);
  return [...lines, ...others];
}

function turnRole(role: ChatMessage['role']): ChatRole {
  switch (role) {
    case 'developer':
      return 'system';
    case 'function':
      return 'tool';
    default:
      return role;
  }
}

import type { ChatRole, ChatTurn, ScanText } from '../../../guards/types';
import type { ChatMessage } from '../requestSchemas';
import { randomId } from './bookkeeping';
import { readableArguments } from './toolArguments';

/**
 * The conversation as a Llama Guard style guard reads it: one turn per message, whatever its
 * role, holding every text of that message (the same texts Prompt Guard scans, so both guards
 * see the same request). Tool definitions and documents come first, as one system turn: the
 * engine reads them before the messages.
 */
export function chatConversation(messages: readonly ChatMessage[], messageTexts: readonly ScanText[][], preamble: readonly ScanText[]): ChatTurn[] {
  const turns: ChatTurn[] = [];
  if (preamble.length > 0) turns.push({ role: 'system', content: preamble.map((t) => t.text).join(' ') });
  messages.forEach((message, i) => {
    const texts = messageTexts[i] ?? [];
    const at = `messages[${i}]`;
    const name = texts.find((t) => t.path === `${at}.name`)?.text;
    // A random id is bookkeeping, not words (Prompt Guard still scans it); any other is read with its turn.
    const body = texts.filter((t) => t.source !== 'tool_call' && t.path !== `${at}.name` && !(t.path === `${at}.tool_call_id` && randomId(t.text))).map((t) => t.text);
    const turn: ChatTurn = { role: turnRole(message.role), content: [name ? `${name}:` : '', ...body].filter((s) => s !== '').join(' ') };
    const calls = toolCallLines(message, texts);
    if (calls.length) turn.toolCalls = calls;
    turns.push(turn);
  });
  return turns;
}

/** `name(arguments)` per tool call and legacy function call; other strings of the calls (ids unless random) follow as they are. */
function toolCallLines(message: ChatMessage, texts: readonly ScanText[]): string[] {
  const calls = [...(message.tool_calls ?? []).map((c) => c.function), ...(message.function_call ? [message.function_call] : [])];
  const lines = calls.filter((f) => f !== undefined).map((f) => `${f.name ?? 'tool'}(${readableArguments(f.arguments ?? '')})`);
  const others = texts
    .filter((t) => t.source === 'tool_call' && !/\.(function\.(name|arguments)|function_call\.(name|arguments))$/.test(t.path) && !(/\.id$/.test(t.path) && randomId(t.text)))
    .map((t) => t.text);
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

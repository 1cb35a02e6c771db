import type { ChatRole, ChatTurn, ScanText, TextSource } from '../../guards/types';
import type { ChatMessage, CompletionRequest } from '../requestSchemas';

/**
 * Pure: what the guards must see of a request. Every text an attacker can reach becomes a
 * ScanText with its source and location: every message, every text content part, every tool-call
 * argument string. Non-text parts (images, audio) carry no text to scan.
 */
export function chatScanTexts(messages: ChatMessage[]): ScanText[] {
  const texts: ScanText[] = [];
  messages.forEach((message, i) => {
    const source = sourceOfRole(message.role);
    const content = message.content;
    if (typeof content === 'string') {
      texts.push({ source, path: `messages[${i}].content`, text: content });
    } else if (Array.isArray(content)) {
      content.forEach((part, j) => {
        const text = (part as { text?: unknown }).text;
        if (typeof text === 'string') {
          const partSource = part.type === 'document' ? 'document' : source;
          texts.push({ source: partSource, path: `messages[${i}].content[${j}]`, text });
        }
      });
    }
    message.tool_calls?.forEach((call, j) => {
      const args = call.function?.arguments;
      if (typeof args === 'string') texts.push({ source: 'tool_call', path: `messages[${i}].tool_calls[${j}].function.arguments`, text: args });
    });
  });
  return texts;
}

export function completionScanTexts(prompt: CompletionRequest['prompt']): ScanText[] {
  if (typeof prompt === 'string') return [{ source: 'user', path: 'prompt', text: prompt }];
  return prompt.map((text, i) => ({ source: 'user' as const, path: `prompt[${i}]`, text }));
}

/** The conversation as plain turns (content parts joined), for Llama Guard style guards. */
export function chatTurns(messages: ChatMessage[]): ChatTurn[] {
  return messages.map((message) => {
    const turn: ChatTurn = { role: turnRole(message.role), content: flattenContent(message.content) };
    const calls = message.tool_calls?.map((c) => `${c.function?.name ?? 'tool'}(${c.function?.arguments ?? ''})`);
    if (calls?.length) turn.toolCalls = calls;
    return turn;
  });
}

export function flattenContent(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part as { text?: unknown }).text)
    .filter((t): t is string => typeof t === 'string')
    .join('\n');
}

function sourceOfRole(role: ChatMessage['role']): TextSource {
  switch (role) {
    case 'system':
    case 'developer':
      return 'system';
    case 'user':
      return 'user';
    case 'assistant':
      return 'assistant';
    case 'tool':
    case 'function':
      return 'tool';
  }
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

/** An assistant answer as the output guard sees it: its text plus its tool calls. */
export interface AssistantAnswer {
  content: string;
  toolCalls: { name: string; arguments: string }[];
}

export function answerScanTexts(answer: AssistantAnswer, choicePath: string): ScanText[] {
  const texts: ScanText[] = [{ source: 'assistant', path: `${choicePath}.content`, text: answer.content }];
  answer.toolCalls.forEach((call, j) => texts.push({ source: 'tool_call', path: `${choicePath}.tool_calls[${j}].function.arguments`, text: call.arguments }));
  return texts;
}

export function answerTurn(answer: AssistantAnswer): ChatTurn {
  const turn: ChatTurn = { role: 'assistant', content: answer.content };
  if (answer.toolCalls.length) turn.toolCalls = answer.toolCalls.map((c) => `${c.name}(${c.arguments})`);
  return turn;
}

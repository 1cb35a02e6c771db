/**
 * Deterministic stand-in answers. The dev engine is not a model: it answers the same request the
 * same way, so tests and benchmarks are repeatable.
 */

export const DEV_MODEL_ID = 'dev-llama-3.1-405b-stand-in';

/** Rough token estimate (about four characters a token) for the usage block; the gateway counts with the real Llama 3 tokenizer. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

export function defaultAnswer(promptText: string): string {
  const words = promptText.trim().split(/\s+/).filter(Boolean).length;
  return `This is the safety-gateway dev engine, a stand-in for Llama 3.1 405B. Your message had ${words} words. No model produced this answer.`;
}

/** The text of a chat request's messages, for counting (content parts flattened). */
export function chatPromptText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  const parts: string[] = [];
  for (const message of messages) {
    const content = (message as { content?: unknown } | null)?.content;
    if (typeof content === 'string') parts.push(content);
    else if (Array.isArray(content)) {
      for (const part of content) if (typeof (part as { text?: unknown })?.text === 'string') parts.push((part as { text: string }).text);
    }
  }
  return parts.join('\n');
}

export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown };
    if (m?.role === 'user') return chatPromptText([m]);
  }
  return '';
}

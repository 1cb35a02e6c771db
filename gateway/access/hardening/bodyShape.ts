import { ApiError } from '../../errors';

export interface ShapeLimits {
  messages: number;
  content_parts: number;
}

/**
 * Message and content-part counts of a parsed body, checked before the guards see it: every
 * message and part costs guard time, so a request with a million tiny parts is refused up front.
 */
export function bodyShapeError(body: unknown, limits: ShapeLimits): ApiError | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const { messages, prompt, input } = body as { messages?: unknown; prompt?: unknown; input?: unknown };
  if (Array.isArray(messages)) {
    if (messages.length > limits.messages) return tooMany(`${messages.length} messages; the limit is ${limits.messages}`, 'messages', 'too_many_messages');
    let parts = 0;
    for (const m of messages) {
      const content = (m as { content?: unknown } | null)?.content;
      if (Array.isArray(content)) parts += content.length;
    }
    if (parts > limits.content_parts) return tooMany(`${parts} content parts; the limit is ${limits.content_parts}`, 'messages', 'too_many_content_parts');
  }
  // Responses API input items count as messages, their content parts (and tool outputs' parts) as parts.
  if (Array.isArray(input)) {
    if (input.length > limits.messages) return tooMany(`${input.length} input items; the limit is ${limits.messages}`, 'input', 'too_many_messages');
    let parts = 0;
    for (const item of input) {
      const { content, output } = (item ?? {}) as { content?: unknown; output?: unknown };
      if (Array.isArray(content)) parts += content.length;
      if (Array.isArray(output)) parts += output.length;
    }
    if (parts > limits.content_parts) return tooMany(`${parts} content parts; the limit is ${limits.content_parts}`, 'input', 'too_many_content_parts');
  }
  if (Array.isArray(prompt) && prompt.length > limits.messages) return tooMany(`${prompt.length} prompts; the limit is ${limits.messages}`, 'prompt', 'too_many_prompts');
  return undefined;
}

/** Pure: the 400 for a request whose extraction found more texts than `limit` (limits.texts), or undefined. */
export function textCountError(count: number, limit: number): ApiError | undefined {
  return count > limit ? tooMany(`${count} texts to check (contents, names, tool calls and definitions, documents, members the gateway does not know); the limit is ${limit}`, null, 'too_many_texts') : undefined;
}

function tooMany(what: string, param: string | null, code: string): ApiError {
  return new ApiError(400, `The request has ${what}.`, 'invalid_request_error', code, param);
}

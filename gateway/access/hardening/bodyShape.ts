import { ApiError } from '../../errors';

export interface ShapeLimits {
  messages: number;
  content_parts: number;
}

/**
 * Message and content-part counts of a parsed body, checked before the guards see it: every
 * message and part costs guard time, so a request with a million tiny parts is refused up front.
 * Every other list of scanned pieces counts as parts too: tool calls, tool and function
 * definitions, documents, reasoning summaries (13,000 tool calls in one message were 39,000 texts
 * to scan, under a limit of 4,096 parts).
 */
export function bodyShapeError(body: unknown, limits: ShapeLimits): ApiError | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const { messages, prompt, input, tools, functions, documents } = body as Record<string, unknown>;
  // Top-level lists of scanned pieces, by member name.
  const pieces = new Map<string, number>();
  const add = (param: string, list: unknown) => {
    if (Array.isArray(list)) pieces.set(param, (pieces.get(param) ?? 0) + list.length);
  };
  add('tools', tools);
  add('functions', functions);
  add('documents', documents);
  if (Array.isArray(messages)) {
    if (messages.length > limits.messages) return tooMany(`${messages.length} messages; the limit is ${limits.messages}`, 'messages', 'too_many_messages');
    for (const m of messages) {
      const { content, tool_calls: calls } = (m ?? {}) as { content?: unknown; tool_calls?: unknown };
      add('messages', content);
      add('messages', calls);
    }
  }
  // Responses API input items count as messages, their content parts (tool outputs' and reasoning summaries' too) as parts.
  if (Array.isArray(input)) {
    if (input.length > limits.messages) return tooMany(`${input.length} input items; the limit is ${limits.messages}`, 'input', 'too_many_messages');
    for (const item of input) {
      const { content, output, summary } = (item ?? {}) as { content?: unknown; output?: unknown; summary?: unknown };
      add('input', content);
      add('input', output);
      add('input', summary);
    }
  }
  const parts = [...pieces.values()].reduce((a, b) => a + b, 0);
  if (parts > limits.content_parts) {
    // The member holding the most of them is the one to name.
    const [param] = [...pieces.entries()].sort((a, b) => b[1] - a[1])[0];
    return tooMany(`${parts} content parts; the limit is ${limits.content_parts} (tool calls, tool and function definitions, documents and reasoning summaries count as parts)`, param, 'too_many_content_parts');
  }
  if (Array.isArray(prompt) && prompt.length > limits.messages) return tooMany(`${prompt.length} prompts; the limit is ${limits.messages}`, 'prompt', 'too_many_prompts');
  return undefined;
}

function tooMany(what: string, param: string, code: string): ApiError {
  return new ApiError(400, `The request has ${what}.`, 'invalid_request_error', code, param);
}

import { z } from 'zod';

/**
 * The request bodies the gateway reads. Only what the guards need is checked; every other field
 * (tools, tool_choice, response_format, seed, ...) is kept and reaches the engine as sent.
 */

const TextPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const OtherPart = z.looseObject({ type: z.string() });
const ContentPart = z.union([TextPart, OtherPart]);

const ToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});

export const ChatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(ToolCall).optional(),
  tool_call_id: z.string().optional(),
});

export const ChatCompletionRequest = z.looseObject({
  model: z.string().min(1).optional(),
  messages: z.array(ChatMessage).min(1, '`messages` must hold at least one message'),
  stream: z.boolean().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
});

export const CompletionRequest = z.looseObject({
  model: z.string().min(1).optional(),
  prompt: z.union([z.string(), z.array(z.string()).min(1)]),
  stream: z.boolean().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
});

export type ChatMessage = z.infer<typeof ChatMessage>;
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;
export type CompletionRequest = z.infer<typeof CompletionRequest>;

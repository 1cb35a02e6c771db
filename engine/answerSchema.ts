import { z } from 'zod';

/**
 * What an OpenAI-compatible engine answers, as the gateway reads it: chat completions, text
 * completions, and their stream chunks. Loose objects (engines add members; the gateway's
 * answer extraction scans the strings of members it does not know), but the members it does know
 * must have their documented types: `tool_calls: {}` or `[null]` is a broken answer (502), not
 * something to guess about. Every member is classified in gateway/pipeline/extract/answerFields.ts.
 */

const str = z.string().nullable().optional();
const int = z.number().int().nonnegative().optional();

const TopLogprob = z.looseObject({ token: z.string(), logprob: z.number().nullable().optional(), bytes: z.array(z.number()).nullable().optional() });
export const LogprobToken = z.looseObject({
  token: z.string(),
  logprob: z.number().nullable().optional(),
  bytes: z.array(z.number()).nullable().optional(),
  top_logprobs: z.array(TopLogprob).nullable().optional(),
});
export const ChatLogprobs = z.looseObject({ content: z.array(LogprobToken).nullable().optional(), refusal: z.array(LogprobToken).nullable().optional() });
/** Legacy completions logprobs: parallel arrays, and top alternatives as `{token: logprob}` maps. */
export const TextLogprobs = z.looseObject({
  tokens: z.array(z.string()).nullable().optional(),
  token_logprobs: z.array(z.number().nullable()).nullable().optional(),
  top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable().optional(),
  text_offset: z.array(z.number()).nullable().optional(),
});

export const AnswerPart = z.looseObject({ type: z.string(), text: z.string().optional() });
export const AnswerFunction = z.looseObject({ name: str, arguments: str });
export const AnswerToolCall = z.looseObject({ index: int, id: str, type: str, function: AnswerFunction.nullable().optional() });

/** `message` of a chat completion and `delta` of a chunk share their members. */
export const AnswerMessage = z.looseObject({
  role: str,
  content: z.union([z.string(), z.array(AnswerPart), z.null()]).optional(),
  refusal: str,
  reasoning_content: str,
  reasoning: str,
  tool_calls: z.array(AnswerToolCall).nullable().optional(),
  function_call: AnswerFunction.nullable().optional(),
});

const choiceCommon = { index: int, logprobs: ChatLogprobs.nullable().optional(), finish_reason: str };
export const ChatChoice = z.looseObject({ ...choiceCommon, message: AnswerMessage.nullable().optional() });
export const ChatChunkChoice = z.looseObject({ ...choiceCommon, delta: AnswerMessage.nullable().optional() });
export const TextChoice = z.looseObject({ index: int, text: str, logprobs: TextLogprobs.nullable().optional(), finish_reason: str });

const envelope = {
  id: str,
  object: str,
  created: z.number().nullable().optional(),
  model: str,
  system_fingerprint: str,
  service_tier: str,
  usage: z.looseObject({}).nullable().optional(),
};
export const ChatCompletion = z.looseObject({ ...envelope, choices: z.array(ChatChoice) });
export const ChatChunk = z.looseObject({ ...envelope, choices: z.array(ChatChunkChoice) });
export const TextCompletion = z.looseObject({ ...envelope, choices: z.array(TextChoice) });
/** Stream chunks and whole answers of /v1/completions have the same shape. */
export const TextChunk = TextCompletion;

export type ChatCompletion = z.infer<typeof ChatCompletion>;
export type ChatChunk = z.infer<typeof ChatChunk>;
export type TextCompletion = z.infer<typeof TextCompletion>;
export type ChatChoice = z.infer<typeof ChatChoice>;
export type ChatChunkChoice = z.infer<typeof ChatChunkChoice>;
export type TextChoice = z.infer<typeof TextChoice>;
export type AnswerMessage = z.infer<typeof AnswerMessage>;

export class MalformedAnswerError extends Error {
  override readonly name = 'MalformedAnswerError';
}

/**
 * Pure: a parsed JSON value as a completion (or stream chunk), or a MalformedAnswerError naming
 * the first problem (never content).
 */
function parseWith<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new MalformedAnswerError(`the engine sent ${describe(json)} instead of a ${what}`);
  if ('error' in json && (json as { error?: unknown }).error != null) throw new MalformedAnswerError('the engine reported an error');
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MalformedAnswerError(`the engine sent a malformed ${what}: \`${issue.path.map(String).join('.') || '(top level)'}\` ${issue.message}`);
  }
  return result.data;
}

export const parseChatCompletion = (json: unknown): ChatCompletion => parseWith(ChatCompletion, json, 'completion');
export const parseChatChunk = (json: unknown): ChatChunk => parseWith(ChatChunk, json, 'completion chunk');
export const parseTextCompletion = (json: unknown, stream: boolean): TextCompletion => parseWith(TextCompletion, json, stream ? 'completion chunk' : 'completion');

function describe(json: unknown): string {
  if (json === null) return 'null';
  if (Array.isArray(json)) return 'an array';
  return `a ${typeof json}`;
}

import { z } from 'zod';

/**
 * What an OpenAI-compatible engine answers, as the gateway reads it: chat completions, text
 * completions, and their stream chunks. Loose objects (engines add members; the gateway's
 * answer extraction scans the strings of members it does not know), but the members it does know
 * must have their documented types: `tool_calls: {}` or `[null]` is a broken answer (502), not
 * something to guess about. Every member is classified in gateway/pipeline/extract/answerLanes.ts.
 */

const str = z.string().nullable().optional();
const int = z.number().int().nonnegative().optional();

/**
 * Bookkeeping the gateway relays without a guard check (ids, model, object, status; in chat and
 * text answers finish_reason, role and the part and tool-call types only within the values engines
 * send, any other is read as text: gateway/pipeline/extract/answerLanes.ts): the model does not
 * write these, so they must look like identifiers. Words in one would be text no guard read: a
 * broken or hostile engine's answer, refused (502).
 */
const IDENTIFIER = /^[A-Za-z0-9._:/@+-]{0,256}$/;
const identifier = z.string().regex(IDENTIFIER, 'is not an identifier');
const tag = identifier.nullable().optional();
/**
 * Token counts: numbers, flags and lists of numbers under identifier member names, at any depth
 * (`prompt_tokens_details.cached_tokens`, vLLM's `input_tokens_per_turn` lists, OpenRouter's
 * `is_byok`). No strings: a usage block carries no text.
 */
type UsageValue = number | boolean | null | number[] | { [member: string]: UsageValue };
const UsageValue: z.ZodType<UsageValue> = z.lazy(() => z.union([z.number(), z.boolean(), z.null(), z.array(z.number()), z.record(identifier, UsageValue)]));
const Usage = z.record(identifier, UsageValue).nullable().optional();

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

export const AnswerPart = z.looseObject({ type: identifier, text: z.string().optional() });
export const AnswerFunction = z.looseObject({ name: str, arguments: str });
export const AnswerToolCall = z.looseObject({ index: int, id: str, type: tag, function: AnswerFunction.nullable().optional() });

/** `message` of a chat completion and `delta` of a chunk share their members. */
export const AnswerMessage = z.looseObject({
  role: tag,
  content: z.union([z.string(), z.array(AnswerPart), z.null()]).optional(),
  refusal: str,
  reasoning_content: str,
  reasoning: str,
  tool_calls: z.array(AnswerToolCall).nullable().optional(),
  function_call: AnswerFunction.nullable().optional(),
});

// Both kinds type both `message` and `delta`: the lanes read either as a message wherever it
// appears, so an untyped one (a string `delta` in a whole answer) must not reach them.
const choiceCommon = {
  index: int,
  logprobs: ChatLogprobs.nullable().optional(),
  finish_reason: tag,
  message: AnswerMessage.nullable().optional(),
  delta: AnswerMessage.nullable().optional(),
};
export const ChatChoice = z.looseObject(choiceCommon);
/**
 * A stream's choices are told apart by `index` alone (the openai SDKs file a choice without one
 * under `undefined`, apart from choice 0, where the gateway would read it): required in chunks,
 * as OpenAI documents it. Whole answers' choices go by position.
 */
const chunkIndex = z.number().int().nonnegative();
export const ChatChunkChoice = z.looseObject({ ...choiceCommon, index: chunkIndex });
export const TextChoice = z.looseObject({ index: int, text: str, logprobs: TextLogprobs.nullable().optional(), finish_reason: tag });
const TextChunkChoice = TextChoice.extend({ index: chunkIndex });

const envelope = {
  id: tag,
  object: tag,
  created: z.number().nullable().optional(),
  model: tag,
  system_fingerprint: tag,
  service_tier: tag,
  usage: Usage,
};
export const ChatCompletion = z.looseObject({ ...envelope, choices: z.array(ChatChoice) });
export const ChatChunk = z.looseObject({ ...envelope, choices: z.array(ChatChunkChoice) });
export const TextCompletion = z.looseObject({ ...envelope, choices: z.array(TextChoice) });
/** Stream chunks of /v1/completions: a whole answer's shape, each choice with its `index`. */
export const TextChunk = z.looseObject({ ...envelope, choices: z.array(TextChunkChoice) });

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
export const parseTextCompletion = (json: unknown, stream: boolean): TextCompletion => (stream ? parseWith(TextChunk, json, 'completion chunk') : parseWith(TextCompletion, json, 'completion'));

function describe(json: unknown): string {
  if (json === null) return 'null';
  if (Array.isArray(json)) return 'an array';
  return `a ${typeof json}`;
}

/**
 * The Responses API (POST /v1/responses): the response object, its output items and content
 * parts, and its stream events. Loose like the completion schemas: members the gateway does not
 * know are scanned (gateway/pipeline/responses/answerSlots.ts), members it knows must have their
 * documented types. A response or event carrying an error (`error` member, `type: "error"`,
 * `response.failed`, `status: "failed"`) is the engine's failure: 502, its text never relayed.
 */
export const ResponsePart = z.looseObject({
  type: identifier,
  text: z.string().optional(),
  refusal: z.string().optional(),
  annotations: z.array(z.looseObject({})).nullable().optional(),
  logprobs: z.array(LogprobToken).nullable().optional(),
});

export const ResponseOutputItem = z.looseObject({
  type: identifier,
  id: tag,
  status: tag,
  role: tag,
  /** Message parts (output_text, refusal) or a reasoning item's reasoning_text parts. */
  content: z.array(ResponsePart).nullable().optional(),
  /** Function and custom tool calls. */
  name: str,
  arguments: str,
  call_id: str,
  input: str,
  /** Reasoning items. */
  summary: z.array(ResponsePart).nullable().optional(),
  encrypted_content: str,
});

export const ResponseObject = z.looseObject({
  id: tag,
  object: tag,
  created_at: z.number().nullable().optional(),
  status: tag,
  model: tag,
  output: z.array(ResponseOutputItem),
  usage: Usage,
  // Strict: the whole member is bookkeeping (RESPONSE_STRUCTURE), so nothing else may ride in it.
  incomplete_details: z.strictObject({ reason: tag }).nullable().optional(),
  /** Must be null: a response with an error is the engine's failure (502). */
  error: z.unknown().optional(),
  /** Echoes of the request: compared with what the client sent, anything new in them is checked. */
  instructions: z.unknown().optional(),
  tools: z.unknown().optional(),
  tool_choice: z.unknown().optional(),
  text: z.unknown().optional(),
  reasoning: z.unknown().optional(),
  metadata: z.unknown().optional(),
  user: z.unknown().optional(),
  prompt: z.unknown().optional(),
});

export const ResponseStreamEvent = z.looseObject({
  type: identifier,
  sequence_number: int,
  output_index: int,
  content_index: int,
  summary_index: int,
  annotation_index: int,
  item_id: tag,
  delta: z.string().optional(),
  text: z.string().optional(),
  refusal: z.string().optional(),
  arguments: z.string().optional(),
  /** A custom tool call's input (`response.custom_tool_call_input.done`): text, never an object. */
  input: z.string().optional(),
  name: str,
  item: ResponseOutputItem.optional(),
  part: ResponsePart.optional(),
  response: ResponseObject.optional(),
  logprobs: z.array(LogprobToken).nullable().optional(),
  annotation: z.looseObject({}).optional(),
});

export type ResponsePart = z.infer<typeof ResponsePart>;
export type ResponseOutputItem = z.infer<typeof ResponseOutputItem>;
export type ResponseObject = z.infer<typeof ResponseObject>;
export type ResponseStreamEvent = z.infer<typeof ResponseStreamEvent>;

/**
 * The members each known event type must carry (the documented ones the gateway reads). Not the
 * indexes: some engines leave them out (llama.cpp's server sends only `item_id`), and the stream
 * reader places such an event by its item (gateway/streaming/eventPlacement.ts).
 */
const EVENT_MEMBERS: Readonly<Record<string, readonly (keyof ResponseStreamEvent)[]>> = {
  'response.created': ['response'],
  'response.queued': ['response'],
  'response.in_progress': ['response'],
  'response.completed': ['response'],
  'response.incomplete': ['response'],
  'response.output_item.added': ['item'],
  'response.output_item.done': ['item'],
  'response.content_part.added': ['part'],
  'response.content_part.done': ['part'],
  'response.output_text.delta': ['delta'],
  'response.output_text.done': ['text'],
  'response.refusal.delta': ['delta'],
  'response.refusal.done': ['refusal'],
  'response.function_call_arguments.delta': ['delta'],
  'response.function_call_arguments.done': ['arguments'],
  'response.custom_tool_call_input.delta': ['delta'],
  'response.custom_tool_call_input.done': ['input'],
  'response.reasoning_summary_part.added': ['part'],
  'response.reasoning_summary_part.done': ['part'],
  'response.reasoning_summary_text.delta': ['delta'],
  'response.reasoning_summary_text.done': ['text'],
  'response.reasoning_text.delta': ['delta'],
  'response.reasoning_text.done': ['text'],
  'response.output_text.annotation.added': ['annotation'],
};

/** Pure: a whole Responses answer, or a MalformedAnswerError (a failed response is the engine's failure too). */
export function parseResponseObject(json: unknown): ResponseObject {
  const response = parseWith(ResponseObject, json, 'response');
  if (response.status === 'failed') throw new MalformedAnswerError('the engine reported a failed response');
  return response;
}

/** Pure: one stream event of a Responses stream, or a MalformedAnswerError naming the first problem (never content). */
export function parseResponseEvent(json: unknown): ResponseStreamEvent {
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const type = (json as { type?: unknown }).type;
    if (type === 'error' || type === 'response.failed') throw new MalformedAnswerError(`the engine reported an error (${type})`);
  }
  const event = parseWith(ResponseStreamEvent, withOpeningOutput(json), 'response event');
  for (const member of EVENT_MEMBERS[event.type] ?? []) {
    if (event[member] === undefined || event[member] === null) throw new MalformedAnswerError(`the engine sent a malformed response event: \`${event.type}\` without \`${member}\``);
  }
  if (event.response && (event.response.error != null || event.response.status === 'failed')) throw new MalformedAnswerError('the engine reported a failed response');
  return event;
}

/**
 * A response that is still opening (`response.created`, `queued`, `in_progress`) may come without
 * `output` (llama.cpp's server sends only id, object and status): no item yet, so `[]`. A terminal
 * event's response must state its output.
 */
function withOpeningOutput(json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  const { type, response } = json as { type?: unknown; response?: unknown };
  if (typeof type !== 'string' || TERMINAL_RESPONSE_EVENTS.has(type) || response === null || typeof response !== 'object' || Array.isArray(response)) return json;
  return 'output' in response ? json : { ...json, response: { ...response, output: [] } };
}

/** Events that end a Responses stream (the engine's last word; `response.failed` is refused as an error above). */
export const TERMINAL_RESPONSE_EVENTS: ReadonlySet<string> = new Set(['response.completed', 'response.incomplete']);

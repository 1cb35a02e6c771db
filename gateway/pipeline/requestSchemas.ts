import { z } from 'zod';

/**
 * The request bodies the gateway reads. Every field listed here is classified in
 * pipeline/extract/requestFields.ts (scanned, or a known harmless parameter); a test walks these
 * shapes and fails on a field nobody classified. Fields not listed are refused or stripped by the
 * policy's `request_fields`, never forwarded unchecked. Harmless parameters are typed as the API
 * documents them (numbers, flags, identifiers): none is read as prompt text, and free text where a
 * number or a setting goes would reach the engine unread, so it is refused (400) instead. Strings
 * the engine keeps apart from the prompt (`user`, `metadata`, stop sequences) stay strings.
 */

const number = z.number().nullable().optional();
const integer = z.number().int().nullable().optional();
const flag = z.boolean().nullable().optional();
/** A setting's name (`low`, `auto`, `flex`, `message.output_text.logprobs`): one word, never free text. */
const setting = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'a setting: one word of letters, digits and . _ : -').nullable().optional();
const text = z.string().nullable().optional();

/**
 * A model id as engines name them (`meta-llama/Llama-3.1-405B-Instruct`, `llama3.1:405b`): it goes
 * into the audit log, span names and metric attributes whatever the content capture mode, so free
 * text (a prompt, a secret) is refused here rather than recorded.
 */
export const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,255}$/;
const ModelId = z.string().regex(MODEL_ID, 'a model id: letters, digits and . _ : / @ + -, at most 256 characters');

/** A content part: text-bearing parts are scanned whole (every string member), media parts follow the policy. */
export const ContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

export const ToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});

export const FunctionCall = z.looseObject({ name: z.string().optional(), arguments: z.string().optional() });

export const ChatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(ToolCall).nullable().optional(),
  tool_call_id: z.string().optional(),
  function_call: FunctionCall.nullable().optional(),
  refusal: z.string().nullable().optional(),
  reasoning_content: z.string().nullable().optional(),
  reasoning: z.string().nullable().optional(),
});

/** A tool definition (`tools[]`) or a legacy function definition (`functions[]`, the inner `function`). */
export const FunctionDefinition = z.looseObject({
  name: z.string().optional(),
  description: z.string().nullable().optional(),
  parameters: z.unknown().optional(),
  strict: flag,
});
export const Tool = z.looseObject({ type: z.string().optional(), function: FunctionDefinition.optional() });

// Strict: flags only; a member the gateway does not know would reach the engine unread.
const StreamOptions = z.strictObject({ include_usage: z.boolean().nullable().optional(), continuous_usage_stats: z.boolean().nullable().optional(), include_obfuscation: z.boolean().nullable().optional() }).nullable().optional();

/** Sampling and bookkeeping parameters of OpenAI's API and the common engine extensions (vLLM), none read as text. */
const harmlessParameters = {
  frequency_penalty: number,
  presence_penalty: number,
  temperature: number,
  top_p: number,
  // How many answers: a number the gateway can count (window mode streams exactly one), never a string.
  n: z.number().int().min(1).max(128).nullable().optional(),
  // Any number: engines take seeds up to 2^63, past JavaScript's safe integers.
  seed: number,
  stop: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  // Token ids (as JSON member names) to biases.
  logit_bias: z.record(z.string().regex(/^\d{1,10}$/, 'a token id'), z.number()).nullable().optional(),
  // A flag on chat, a count on completions.
  logprobs: z.union([z.boolean(), z.number().int()]).nullable().optional(),
  top_logprobs: integer,
  user: text,
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  store: flag,
  service_tier: setting,
  parallel_tool_calls: flag,
  reasoning_effort: setting,
  verbosity: setting,
  prompt_cache_key: text,
  safety_identifier: text,
  // vLLM sampling extensions.
  top_k: number,
  min_p: number,
  repetition_penalty: number,
  length_penalty: number,
  min_tokens: integer,
  ignore_eos: flag,
  stop_token_ids: z.array(z.number().int()).nullable().optional(),
  skip_special_tokens: flag,
  spaces_between_special_tokens: flag,
  include_stop_str_in_output: flag,
  // Sequences generated per prompt (vLLM): bounded like n and counted in the token reservation.
  best_of: z.number().int().min(1).max(128).nullable().optional(),
  use_beam_search: flag,
  priority: integer,
  echo: flag,
};

export const ChatCompletionRequest = z.looseObject({
  model: ModelId.optional(),
  messages: z.array(ChatMessage).min(1, '`messages` must hold at least one message'),
  stream: z.boolean().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stream_options: StreamOptions,
  tools: z.array(Tool).nullable().optional(),
  tool_choice: z.unknown().optional(),
  functions: z.array(FunctionDefinition).nullable().optional(),
  function_call: z.unknown().optional(),
  response_format: z.unknown().optional(),
  /** vLLM: documents the chat template renders into the prompt (RAG templates). */
  documents: z.array(z.unknown()).nullable().optional(),
  // OpenAI's output types. Text is what every answer is and all the output guard reads: audio could not be checked.
  modalities: z
    .array(z.literal('text', { error: 'the gateway checks text answers only: `modalities` may hold only "text" (audio cannot be checked)' }))
    .nullable()
    .optional(),
  ...harmlessParameters,
});

/** Token-id prompts (`[1, 2, 3]` or `[[1, 2], [3]]`) are accepted by the schema and refused with a clear message by the extraction. */
const TokenIds = z.array(z.number());
export const CompletionRequest = z.looseObject({
  model: ModelId.optional(),
  prompt: z.union([z.string(), z.array(z.string()).min(1), TokenIds.min(1), z.array(TokenIds).min(1)]),
  suffix: z.string().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  stream_options: StreamOptions,
  response_format: z.unknown().optional(),
  ...harmlessParameters,
});

/**
 * The Responses API (`POST /v1/responses`). `input` is a string or a list of items: messages of
 * every role, function and custom tool calls and their outputs, reasoning, and references to items
 * of earlier responses (resolved by the gateway from what it relayed, see
 * pipeline/responses/conversationMemory.ts). Item statuses, roles and phases are enumerations, not
 * text; every other string of an item is scanned. Item types the gateway does not know are refused
 * before this schema runs (pipeline/responses/inputItems.ts), with a message naming the type.
 */
const ItemStatus = z.enum(['in_progress', 'completed', 'incomplete']);
/** Content of a message or a tool output: a string, or parts (input_text, output_text, refusal, media). */
const ItemContent = z.union([z.string(), z.array(ContentPart)]);

export const ResponsesMessageItem = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: ItemContent,
  id: z.string().optional(),
  status: ItemStatus.optional(),
  phase: z.enum(['commentary', 'final_answer']).nullable().optional(),
});
export const ResponsesFunctionCallItem = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  id: z.string().optional(),
  status: ItemStatus.optional(),
  namespace: z.string().nullable().optional(),
});
export const ResponsesFunctionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string(),
  output: ItemContent,
  id: z.string().nullable().optional(),
  status: ItemStatus.nullable().optional(),
});
export const ResponsesCustomToolCallItem = z.looseObject({
  type: z.literal('custom_tool_call'),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
  id: z.string().optional(),
});
export const ResponsesCustomToolCallOutputItem = z.looseObject({
  type: z.literal('custom_tool_call_output'),
  call_id: z.string(),
  output: ItemContent,
  id: z.string().nullable().optional(),
});
/** Reasoning text parts: their kind is an enumeration, their text is scanned. */
const ReasoningText = z.looseObject({ type: z.enum(['summary_text', 'reasoning_text']), text: z.string() });
export const ResponsesReasoningItem = z.looseObject({
  type: z.literal('reasoning'),
  id: z.string().optional(),
  summary: z.array(ReasoningText),
  content: z.array(ReasoningText).nullable().optional(),
  /** Reasoning the engine would decrypt and read, which the gateway cannot: refused by the extraction unless empty. */
  encrypted_content: z.string().nullable().optional(),
  status: ItemStatus.optional(),
});
export const ResponsesItemReference = z.looseObject({ type: z.literal('item_reference'), id: z.string() });

export const ResponsesInputItem = z.union([
  ResponsesMessageItem,
  ResponsesFunctionCallItem,
  ResponsesFunctionCallOutputItem,
  ResponsesCustomToolCallItem,
  ResponsesCustomToolCallOutputItem,
  ResponsesReasoningItem,
  ResponsesItemReference,
]);

/** A Responses tool: only `function` and `custom` tools are forwarded (built-in tools would feed the engine results the gateway never sees). */
export const ResponsesTool = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  description: z.string().nullable().optional(),
  parameters: z.unknown().optional(),
  strict: flag,
});

export const ResponsesRequest = z.looseObject({
  model: ModelId.optional(),
  input: z.union([z.string(), z.array(ResponsesInputItem)]),
  instructions: z.string().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  stream_options: StreamOptions,
  tools: z.array(ResponsesTool).nullable().optional(),
  tool_choice: z.unknown().optional(),
  /** Output format (a JSON schema the engine reads) and verbosity. */
  text: z.unknown().optional(),
  reasoning: z.unknown().optional(),
  /** Resolved from the conversations this gateway relayed, else refused: history the gateway has not seen cannot be checked. */
  previous_response_id: z.string().nullable().optional(),
  /** State kept by the engine (a stored conversation, a stored prompt template, a run fetched later): refused unless empty. */
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
  background: z.boolean().nullable().optional(),
  include: z.array(setting.unwrap().unwrap()).nullable().optional(),
  truncation: setting,
  max_tool_calls: integer,
  prompt_cache_retention: setting,
  ...harmlessParameters,
});

export type ContentPart = z.infer<typeof ContentPart>;
export type ChatMessage = z.infer<typeof ChatMessage>;
export type Tool = z.infer<typeof Tool>;
export type FunctionDefinition = z.infer<typeof FunctionDefinition>;
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;
export type CompletionRequest = z.infer<typeof CompletionRequest>;
export type ResponsesInputItem = z.infer<typeof ResponsesInputItem>;
export type ResponsesMessageItem = z.infer<typeof ResponsesMessageItem>;
export type ResponsesRequest = z.infer<typeof ResponsesRequest>;

/**
 * A request body validated once, at the edge, with its route's kind: what the access checks count
 * and the extraction reads. `body` is the JSON object as received (the one forwarded, less what
 * the policy strips); `request` is the same object as its schema types it.
 */
export type ValidatedRequest =
  | { kind: 'chat'; body: Record<string, unknown>; request: ChatCompletionRequest }
  | { kind: 'text'; body: Record<string, unknown>; request: CompletionRequest }
  | { kind: 'responses'; body: Record<string, unknown>; request: ResponsesRequest };

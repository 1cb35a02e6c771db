import type { RequestFields } from '../../../policies/schema';
import { ApiError, PolicyRefusedFieldError, UnknownFieldError } from '../../errors';
import type { ChatCompletionRequest, CompletionRequest, ResponsesRequest } from '../requestSchemas';

/**
 * What the gateway does with each top-level request field, by construction: `scanned` fields are
 * read by the extraction (every text in them reaches a guard), `harmless` ones are parameters the
 * engine never reads as text (sampling, bookkeeping). Everything else is refused (or stripped, by
 * policy), so a field the gateway does not know never reaches the engine unchecked. The tables
 * are typed by the request schemas' shapes: a field added there without a class here does not
 * compile, and test/unit/gateway/extract/fieldClasses.test.ts walks the schemas at run time too.
 */
export type FieldClass = 'scanned' | 'harmless';

type ClassTable<T> = { readonly [K in keyof Required<T>]: FieldClass };

const harmlessParameters = {
  frequency_penalty: 'harmless',
  presence_penalty: 'harmless',
  temperature: 'harmless',
  top_p: 'harmless',
  n: 'harmless',
  seed: 'harmless',
  stop: 'harmless',
  logit_bias: 'harmless',
  logprobs: 'harmless',
  top_logprobs: 'harmless',
  user: 'harmless',
  metadata: 'harmless',
  store: 'harmless',
  service_tier: 'harmless',
  parallel_tool_calls: 'harmless',
  reasoning_effort: 'harmless',
  verbosity: 'harmless',
  prompt_cache_key: 'harmless',
  safety_identifier: 'harmless',
  top_k: 'harmless',
  min_p: 'harmless',
  repetition_penalty: 'harmless',
  length_penalty: 'harmless',
  min_tokens: 'harmless',
  ignore_eos: 'harmless',
  stop_token_ids: 'harmless',
  skip_special_tokens: 'harmless',
  spaces_between_special_tokens: 'harmless',
  include_stop_str_in_output: 'harmless',
  best_of: 'harmless',
  use_beam_search: 'harmless',
  priority: 'harmless',
  echo: 'harmless',
} as const;

export const CHAT_FIELDS: ClassTable<ChatCompletionRequest> = {
  model: 'harmless',
  messages: 'scanned',
  stream: 'harmless',
  max_tokens: 'harmless',
  max_completion_tokens: 'harmless',
  stream_options: 'harmless',
  tools: 'scanned',
  tool_choice: 'scanned',
  functions: 'scanned',
  function_call: 'scanned',
  response_format: 'scanned',
  documents: 'scanned',
  modalities: 'harmless',
  ...harmlessParameters,
};

export const COMPLETION_FIELDS: ClassTable<CompletionRequest> = {
  model: 'harmless',
  prompt: 'scanned',
  suffix: 'scanned',
  stream: 'harmless',
  max_tokens: 'harmless',
  stream_options: 'harmless',
  response_format: 'scanned',
  ...harmlessParameters,
};

/**
 * `scanned` here also covers the fields the Responses extraction handles itself: a
 * `previous_response_id` is expanded into the items it stands for (or refused), and engine-side
 * state (`conversation`, `prompt`, `background`) is refused unless empty.
 */
export const RESPONSES_FIELDS: ClassTable<ResponsesRequest> = {
  model: 'harmless',
  input: 'scanned',
  instructions: 'scanned',
  stream: 'harmless',
  max_output_tokens: 'harmless',
  stream_options: 'harmless',
  tools: 'scanned',
  tool_choice: 'scanned',
  text: 'scanned',
  reasoning: 'scanned',
  previous_response_id: 'scanned',
  conversation: 'scanned',
  prompt: 'scanned',
  background: 'scanned',
  include: 'harmless',
  truncation: 'harmless',
  max_tool_calls: 'harmless',
  prompt_cache_retention: 'harmless',
  ...harmlessParameters,
};

/**
 * Pure: the body to forward, or the 400 for a field the gateway will not forward. Policy
 * `request_fields.refuse` wins over everything, the fields the gateway scans included (a policy
 * turning tools off for its apps); `policy check` refuses listing what every request carries.
 */
export function screenTopLevelFields(body: Record<string, unknown>, table: Readonly<Record<string, FieldClass>>, fields: RequestFields): Record<string, unknown> {
  let forward = body;
  for (const field of Object.keys(body)) {
    const known = Object.hasOwn(table, field) ? table[field] : undefined;
    // A field the gateway scans is still refused when the policy says so ("no tools for this app").
    if (fields.refuse.includes(field)) throw new PolicyRefusedFieldError(refusedField(field, known === 'scanned' ? 'this app\'s policy refuses it' : 'the engine would read the request differently from what the guards checked'));
    if (known === 'scanned') continue;
    if (known === 'harmless' || fields.allow.includes(field)) continue;
    if (fields.unknown === 'strip') {
      if (forward === body) forward = { ...body };
      delete forward[field];
      continue;
    }
    throw new UnknownFieldError(refusedField(field, 'the gateway does not know it, so it cannot check what the engine does with it'));
  }
  return forward;
}

export function refusedField(param: string, why: string): ApiError {
  return new ApiError(
    400,
    `The gateway does not forward \`${param.slice(0, 100)}\`: ${why}. Remove it, or ask the gateway operator (policy request_fields).`,
    'invalid_request_error',
    'unsupported_parameter',
    param.slice(0, 200),
  );
}

import { randomUUID } from 'node:crypto';
import { chatPromptText, estimateTokens } from './answers';

/**
 * The dev engine's Responses API (`POST /v1/responses`), shaped as OpenAI documents it: the
 * response object with its output items, and the stream events in their documented order
 * (`response.created`, `response.in_progress`, then per item `output_item.added`,
 * `content_part.added`, `output_text.delta`..., `output_text.done`, `content_part.done`,
 * `output_item.done`, or the function-call events, then `response.completed`), each with its
 * `sequence_number`. Deterministic apart from ids.
 */

/** Input as text, for counting and for the default answer: instructions, then every item's strings. */
export function responsesPromptText(body: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof body.instructions === 'string') parts.push(body.instructions);
  if (typeof body.input === 'string') parts.push(body.input);
  else if (Array.isArray(body.input)) {
    for (const item of body.input as Record<string, unknown>[]) {
      if (!item || typeof item !== 'object') continue;
      if ('content' in item) parts.push(chatPromptText([item]));
      for (const key of ['arguments', 'output', 'input']) if (typeof item[key] === 'string') parts.push(item[key] as string);
    }
  }
  return parts.join('\n');
}

/** The last user message's text (a string input is one). */
export function lastUserInput(body: Record<string, unknown>): string {
  if (typeof body.input === 'string') return body.input;
  if (!Array.isArray(body.input)) return '';
  for (let i = body.input.length - 1; i >= 0; i--) {
    const item = body.input[i] as { role?: unknown; type?: unknown };
    if (item?.role === 'user' && (item.type === undefined || item.type === 'message')) return chatPromptText([item]);
  }
  return '';
}

export interface ResponsesPlan {
  id: string;
  model: string;
  createdAt: number;
  /** The assistant message's text; absent when the answer is tool calls only. */
  text?: string;
  calls: { name: string; arguments: string }[];
  promptTokens: number;
  body: Record<string, unknown>;
}

export function planResponse(body: Record<string, unknown>, model: string, text: string | undefined, calls: { name: string; arguments: string }[]): ResponsesPlan {
  return { id: `resp_dev_${randomUUID().replace(/-/g, '')}`, model, createdAt: Math.floor(Date.now() / 1000), text, calls, promptTokens: estimateTokens(responsesPromptText(body)), body };
}

// Random characters after the prefix, as engines give them (an id with words in it is read as text by the output rules).
const randomPart = (plan: ResponsesPlan) => plan.id.slice('resp_dev_'.length);
const messageId = (plan: ResponsesPlan) => `msg_${randomPart(plan)}`;
const callId = (plan: ResponsesPlan, i: number) => ({ id: `fc_${randomPart(plan)}_${i}`, call_id: `call_${randomPart(plan).slice(0, 12)}_${i}` });

function textPart(text: string): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

export function messageItem(plan: ResponsesPlan, status: 'in_progress' | 'completed'): Record<string, unknown> {
  return { id: messageId(plan), type: 'message', status, role: 'assistant', content: status === 'completed' ? [textPart(plan.text ?? '')] : [] };
}

export function callItem(plan: ResponsesPlan, i: number, status: 'in_progress' | 'completed'): Record<string, unknown> {
  const call = plan.calls[i];
  return { ...callId(plan, i), type: 'function_call', status, name: call.name, arguments: status === 'completed' ? call.arguments : '' };
}

function outputItems(plan: ResponsesPlan): Record<string, unknown>[] {
  return [...(plan.text !== undefined ? [messageItem(plan, 'completed')] : []), ...plan.calls.map((_, i) => callItem(plan, i, 'completed'))];
}

/** The response object; `status: in_progress` without output or usage for the opening events. */
export function responseObject(plan: ResponsesPlan, status: 'in_progress' | 'completed'): Record<string, unknown> {
  const { body } = plan;
  const outputTokens = estimateTokens([plan.text ?? '', ...plan.calls.map((c) => c.name + c.arguments)].join(''));
  return {
    id: plan.id,
    object: 'response',
    created_at: plan.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: plan.model,
    output: status === 'completed' ? outputItems(plan) : [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage:
      status === 'completed'
        ? { input_tokens: plan.promptTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: plan.promptTokens + outputTokens }
        : null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

/**
 * The stream events (without sequence numbers: the writer numbers them), the message text split
 * into `pieces` deltas and each call's arguments sent as one delta.
 */
export function responseEvents(plan: ResponsesPlan, pieces: readonly string[]): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [
    { type: 'response.created', response: responseObject(plan, 'in_progress') },
    { type: 'response.in_progress', response: responseObject(plan, 'in_progress') },
  ];
  let index = 0;
  if (plan.text !== undefined) {
    const at = { item_id: messageId(plan), output_index: index, content_index: 0 };
    events.push({ type: 'response.output_item.added', output_index: index, item: messageItem(plan, 'in_progress') });
    events.push({ type: 'response.content_part.added', ...at, part: textPart('') });
    for (const delta of pieces) events.push({ type: 'response.output_text.delta', ...at, delta, logprobs: [] });
    events.push({ type: 'response.output_text.done', ...at, text: plan.text, logprobs: [] });
    events.push({ type: 'response.content_part.done', ...at, part: textPart(plan.text) });
    events.push({ type: 'response.output_item.done', output_index: index, item: messageItem(plan, 'completed') });
    index += 1;
  }
  plan.calls.forEach((call, i) => {
    const item_id = callId(plan, i).id;
    events.push({ type: 'response.output_item.added', output_index: index, item: callItem(plan, i, 'in_progress') });
    events.push({ type: 'response.function_call_arguments.delta', item_id, output_index: index, delta: call.arguments });
    events.push({ type: 'response.function_call_arguments.done', item_id, output_index: index, name: call.name, arguments: call.arguments });
    events.push({ type: 'response.output_item.done', output_index: index, item: callItem(plan, i, 'completed') });
    index += 1;
  });
  events.push({ type: 'response.completed', response: responseObject(plan, 'completed') });
  return events;
}

/** An event as OpenAI streams it: its type as the SSE event name, the JSON as data. */
export function sseEvent(event: Record<string, unknown>, sequence: number): string {
  return `event: ${String(event.type)}\ndata: ${JSON.stringify({ type: event.type, sequence_number: sequence, ...event })}\n\n`;
}

import type { ScanText } from '../../../guards/types';
import type { RequestFields } from '../../../policies/schema';
import { ApiError } from '../../errors';
import type { ResponsesInputItem, ResponsesRequest } from '../requestSchemas';
import type { ExtractedRequest } from '../extractTexts';
import { DEFAULT_REQUEST_FIELDS } from '../extractTexts';
import { gluedParts } from '../extract/gluedParts';
import { joinedTexts } from '../extract/joinedTexts';
import { RESPONSES_FIELDS, screenTopLevelFields } from '../extract/requestFields';
import { choiceText, definitionsText, definitionText } from '../extract/toolTexts';
import { itemsConversation, itemTexts } from './inputItems';

/**
 * The extraction step for `POST /v1/responses` (the same step as chat's, extractTexts.ts): every
 * text the engine reads with its source: the instructions (`system`), every input item
 * (inputItems.ts), tool definitions, the tool choice, the output format and reasoning settings
 * (`tool_schema`, as chat's tools and response_format), each source's texts also joined, and the
 * conversation for Llama Guard. Engine-side state the gateway cannot read is refused; fields it
 * does not know follow the policy's `request_fields`. Runs after history was expanded
 * (conversationMemory.ts), so `input` holds every item the engine will read.
 */

/** Members naming state the engine keeps: what they stand for is text the gateway never sees. */
const ENGINE_STATE: readonly { field: 'conversation' | 'prompt' | 'background'; why: string }[] = [
  { field: 'conversation', why: 'it names a conversation stored by the engine, whose history the gateway cannot check' },
  { field: 'prompt', why: 'it names a prompt template stored by the engine, whose text the gateway cannot check' },
  { field: 'background', why: 'a background response is fetched later from the engine, past the output guard' },
];

export function refuseEngineState(request: ResponsesRequest): void {
  for (const { field, why } of ENGINE_STATE) {
    const value = request[field];
    if (value === undefined || value === null || value === false) continue;
    throw new ApiError(400, `The gateway does not forward \`${field}\`: ${why}. Send the conversation as items in \`input\`.`, 'invalid_request_error', 'unsupported_parameter', field);
  }
}

/** Tools the client runs (their calls come back as input items the gateway reads): function and custom (freeform) tools, every string of their definitions read as `tool_schema`. */
const CLIENT_RUN_TOOLS: ReadonlySet<string> = new Set(['function', 'custom']);

/** Only tools the client runs: a built-in tool (web search, file search, MCP, ...) would feed the engine results the gateway never sees. */
function refuseBuiltInTools(tools: ResponsesRequest['tools']): void {
  (tools ?? []).forEach((tool, i) => {
    if (!CLIENT_RUN_TOOLS.has(tool.type)) {
      throw new ApiError(400, `Tools of type \`${tool.type.slice(0, 60)}\` are not accepted: the engine would run them and read their results, which the gateway cannot check. Use function or custom tools.`, 'invalid_request_error', 'unsupported_value', `tools[${i}].type`);
    }
  });
}

export function extractResponsesRequest(body: Record<string, unknown>, request: ResponsesRequest, fields: RequestFields = DEFAULT_REQUEST_FIELDS): ExtractedRequest {
  refuseEngineState(request);
  refuseBuiltInTools(request.tools);
  const forward = screenTopLevelFields(body, RESPONSES_FIELDS, fields);
  const items: ResponsesInputItem[] = typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input;
  const perItem =
    typeof request.input === 'string' ? [[{ source: 'user' as const, path: 'input', text: request.input }]] : request.input.map((item, i) => itemTexts(item, i, fields));
  const instructions: ScanText[] = request.instructions ? [{ source: 'system', path: 'instructions', text: request.instructions }] : [];
  // What the engine reads besides the items: tool definitions, a forced tool, the output format, reasoning settings.
  const preamble = [...definitionsText(request.tools, 'tools'), ...choiceText(request.tool_choice, 'tool_choice'), ...definitionText(request.text, 'text'), ...definitionText(request.reasoning, 'reasoning')];
  const texts = [...instructions, ...perItem.flat(), ...preamble];
  return { body: forward, texts: [...texts, ...joinedTexts(texts), ...gluedParts(texts)], conversation: itemsConversation(items, perItem, preamble, instructions) };
}

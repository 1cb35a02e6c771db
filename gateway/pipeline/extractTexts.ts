import type { ChatTurn, ScanText } from '../../guards/types';
import { RequestFields as RequestFieldsSchema, type RequestFields } from '../../policies/schema';
import { ApiError } from '../errors';
import type { ChatCompletionRequest, CompletionRequest } from './requestSchemas';
import { chatConversation, membersOf } from './extract/conversation';
import { documentTexts } from './extract/documentTexts';
import { gluedParts } from './extract/gluedParts';
import { joinedTexts } from './extract/joinedTexts';
import { messageTexts } from './extract/messageTexts';
import { CHAT_FIELDS, COMPLETION_FIELDS, screenTopLevelFields } from './extract/requestFields';
import { choiceText, definitionsText, definitionText } from './extract/toolTexts';

export { answerFromPieces, answerScanTexts, answerTurn, bookkeepingText, deliveredText, type AssistantAnswer } from './extract/answer';
export { isJoinedText } from './extract/joinedTexts';

/**
 * The one extraction step (DESIGN.md, path of a request, step 3): every text of a request that the
 * engine will read, each tagged with its source, and the conversation as Llama Guard reads it.
 * Fields the gateway cannot check are refused here (400), or stripped where the policy says so;
 * the body returned is the one to forward. The pieces live in extract/, one concept per file.
 */
export interface ExtractedRequest {
  /** The body to forward: the request, less the fields the policy strips. */
  body: Record<string, unknown>;
  /** Every text, plus each source's texts joined (a payload split over messages is whole there). */
  texts: ScanText[];
  conversation: ChatTurn[];
}

/** The policy default, for callers without a policy at hand (tests, the policy CLI). */
export const DEFAULT_REQUEST_FIELDS: RequestFields = RequestFieldsSchema.parse({});

export function extractChatRequest(body: Record<string, unknown>, request: ChatCompletionRequest, fields: RequestFields = DEFAULT_REQUEST_FIELDS): ExtractedRequest {
  const forward = screenTopLevelFields(body, CHAT_FIELDS, fields);
  const perMessage = request.messages.map((m, i) => messageTexts(m, i, fields));
  // What the engine reads besides the messages: tool and function definitions, a forced tool, response schemas, documents.
  const preamble = [
    ...definitionsText(request.tools, 'tools'),
    ...definitionsText(request.functions, 'functions'),
    ...choiceText(request.tool_choice, 'tool_choice'),
    ...choiceText(request.function_call, 'function_call'),
    ...definitionText(request.response_format, 'response_format'),
    ...documentTexts(request.documents),
  ];
  const texts = [...perMessage.flat(), ...preamble];
  return { body: forward, texts: [...texts, ...joinedTexts(texts), ...gluedParts(texts)], conversation: chatConversation(request.messages, perMessage, preamble) };
}

export function extractCompletionRequest(body: Record<string, unknown>, request: CompletionRequest, fields: RequestFields = DEFAULT_REQUEST_FIELDS): ExtractedRequest {
  const forward = screenTopLevelFields(body, COMPLETION_FIELDS, fields);
  const texts: ScanText[] = [...promptTexts(request.prompt), ...(request.suffix ? [{ source: 'user' as const, path: 'suffix', text: request.suffix }] : [])];
  const schema = definitionText(request.response_format, 'response_format');
  const all = [...texts, ...schema];
  // Each prompt of a list is completed on its own (vLLM, OpenAI): one user turn each, so the content
  // guard scores each as sent. Joined into one turn, "Hello" before a harmful prompt diluted it under
  // the threshold (0.975 -> 0.778) while the engine completed it alone.
  // A suffix is read with its prompt (fill-in-the-middle: the engine reads prompt, then suffix).
  // With a list of prompts the engine reads it with each: read apart from them, a request split
  // between a prompt and the suffix passed; copied into each, the text the guards read grew as
  // prompts times suffix. So a suffix takes one prompt.
  const prompts = promptTexts(request.prompt);
  const suffix = request.suffix;
  if (suffix && prompts.length > 1) {
    throw new ApiError(400, 'A `suffix` is accepted with one prompt only: send each prompt with its suffix as a request of its own.', 'invalid_request_error', 'unsupported_value', 'suffix');
  }
  const withSuffix = suffix !== undefined && suffix !== '' && prompts.length === 1;
  // A guard that reads whole conversations (Llama Guard) reads each prompt of a list alone too:
  // merged into one User turn, the "Hello" dilution came back there (ChatTurn.alone).
  const apart = prompts.length > 1 ? { alone: true as const } : {};
  const conversation: ChatTurn[] = [
    ...(schema.length ? [{ role: 'system' as const, content: schema.map((t) => t.text).join(' '), path: membersOf(schema) }] : []),
    ...prompts.map((t) => ({ role: 'user' as const, content: withSuffix ? `${t.text}\n${suffix}` : t.text, path: withSuffix ? `${t.path}+suffix` : t.path, ...apart })),
    ...(suffix && !withSuffix ? [{ role: 'user' as const, content: suffix, path: 'suffix', ...apart }] : []),
  ];
  return { body: forward, texts: [...all, ...joinedTexts(all)], conversation };
}

/**
 * Text prompts only. Token-id prompts are refused: ids mean text only under the engine's exact
 * tokenizer, which the gateway cannot be sure of (a different model behind the same URL, added
 * tokens), so decoding them would check a guess of what the engine reads.
 */
function promptTexts(prompt: CompletionRequest['prompt']): ScanText[] {
  if (typeof prompt === 'string') return [{ source: 'user', path: 'prompt', text: prompt }];
  if (prompt.every((p): p is string => typeof p === 'string')) return prompt.map((text, i) => ({ source: 'user' as const, path: `prompt[${i}]`, text }));
  throw new ApiError(400, 'Token-id prompts are not accepted: the gateway checks text. Send `prompt` as a string or a list of strings.', 'invalid_request_error', 'unsupported_value', 'prompt');
}

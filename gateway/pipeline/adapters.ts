import { parseChatChunk, parseChatCompletion, parseTextCompletion } from '../../engine/answerSchema';
import type { RequestFields } from '../../policies/schema';
import { ChatCompletionRequest, CompletionRequest, type ValidatedRequest } from './requestSchemas';
import type { ChunkMeta, StreamChunk } from '../streaming/answerAccumulator';
import { engineAnswer } from './engineAnswer';
import { chatChoiceLanes, ENVELOPE_STRUCTURE, envelopeLanes, textChoiceLanes, type LanePiece } from './extract/answerLanes';
import { plainEnvelope, type AnswerContext } from './extract/bookkeeping';
import { answerFromPieces, extractChatRequest, extractCompletionRequest, type AssistantAnswer } from './extractTexts';
import type { ParsedCompletion } from './parsedCompletion';
import { validation } from './validation';

type ChatRequest = Extract<ValidatedRequest, { kind: 'chat' }>;
type TextRequest = Extract<ValidatedRequest, { kind: 'text' }>;

/** What the guarded request path needs to know about one choices-shaped endpoint's request and answer shapes. */
export interface CompletionAdapter<V extends ChatRequest | TextRequest = ChatRequest | TextRequest> {
  route: '/v1/chat/completions' | '/v1/completions';
  enginePath: '/chat/completions' | '/completions';
  operation: 'chat' | 'text_completion';
  /** Zod at the edge, once: the body as its schema types it, or a 400. */
  validate(body: unknown): V;
  /** The extraction of a validated request; throws an ApiError (400) for a field the gateway will not forward. */
  extract(validated: V, fields?: RequestFields): ParsedCompletion;
  /** `extract(validate(body))`. */
  parse(body: unknown, fields?: RequestFields): ParsedCompletion;
  /**
   * Answers of a non-streamed response, by position in `choices` (a repeated or missing `index`
   * must not hide a choice). Throws EngineError (502) for a malformed answer.
   */
  answers(json: unknown, context: AnswerContext): Map<number, AssistantAnswer>;
  /** Text lanes of one stream chunk, by choice index (-1: the chunk's envelope, shared by every choice). Throws EngineError for a malformed chunk. */
  chunkLanes(json: unknown, context: AnswerContext): { chunk: StreamChunk; lanes: Map<number, LanePiece[]> };
  /** Rewrites a non-streamed response so the blocked choices (positions) carry the refusal instead. */
  blockChoices(json: Record<string, unknown>, blocked: Set<number>, refusal: string, context: AnswerContext): void;
  /** The final chunk of a stream whose answer was blocked. */
  contentFilterChunk(meta: ChunkMeta, index: number, refusal: string): StreamChunk;
}

/** Whole answers by position; members outside the choices are read with every choice. */
function wholeAnswers<C>(json: { choices: C[] } & Record<string, unknown>, context: AnswerContext, lanesOf: (choice: C) => LanePiece[]): Map<number, AssistantAnswer> {
  const shared = envelopeLanes(json, context);
  const out = new Map<number, AssistantAnswer>();
  json.choices.forEach((choice, i) => out.set(i, answerFromPieces([...lanesOf(choice), ...shared])));
  // No choices: what the engine put beside them still reaches the client, so it is checked alone.
  if (json.choices.length === 0) out.set(0, answerFromPieces(shared));
  return out;
}

/** One chunk's lanes by choice index; -1 holds the members outside the choices. */
function chunkLanesBy<C extends { index?: number }>(json: { choices: C[] } & Record<string, unknown>, context: AnswerContext, lanesOf: (choice: C) => LanePiece[]): Map<number, LanePiece[]> {
  const lanes = new Map<number, LanePiece[]>();
  const shared = envelopeLanes(json, context);
  if (shared.length) lanes.set(-1, shared);
  for (const choice of json.choices) {
    const index = choice.index ?? 0;
    lanes.set(index, [...(lanes.get(index) ?? []), ...lanesOf(choice)]);
  }
  return lanes;
}

/** A blocked response keeps only its plain bookkeeping besides the choices: anything else was read with the answers, and may be what was blocked. */
function dropUnknownMembers(json: Record<string, unknown>, context: AnswerContext, object: string): void {
  for (const key of Object.keys(json)) if (!ENVELOPE_STRUCTURE.has(key)) delete json[key];
  plainEnvelope(json, context, object);
}

export const chatAdapter: CompletionAdapter<ChatRequest> = {
  route: '/v1/chat/completions',
  enginePath: '/chat/completions',
  operation: 'chat',
  validate(body) {
    return { kind: 'chat', body: body as Record<string, unknown>, request: validation(ChatCompletionRequest, body, 'chat completion') };
  },
  parse: (body, fields) => chatAdapter.extract(chatAdapter.validate(body), fields),
  extract({ body, request }, fields) {
    const extracted = extractChatRequest(body, request, fields);
    return {
      body: extracted.body,
      stream: request.stream === true,
      model: request.model,
      includeUsage: (request.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true,
      maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
      // Both engines read max_tokens on chat (vLLM also max_completion_tokens, TGI only max_tokens).
      answerTokenField: 'max_tokens',
      inputTexts: extracted.texts,
      conversation: extracted.conversation,
    };
  },
  answers(json, context) {
    return wholeAnswers(engineAnswer(() => parseChatCompletion(json)), context, (choice) => chatChoiceLanes(choice, 'message'));
  },
  chunkLanes(json, context) {
    const chunk = engineAnswer(() => parseChatChunk(json));
    return { chunk, lanes: chunkLanesBy(chunk, context, (choice) => chatChoiceLanes(choice, 'delta')) };
  },
  blockChoices(json, blocked, refusal, context) {
    const choices = json.choices as { index?: number }[];
    choices.forEach((choice, i) => {
      if (!blocked.has(i)) return;
      choices[i] = { index: choice.index ?? i, message: { role: 'assistant', content: refusal }, logprobs: null, finish_reason: 'content_filter' } as { index: number };
    });
    dropUnknownMembers(json, context, 'chat.completion');
  },
  contentFilterChunk(meta, index, refusal) {
    // With its role: the engine's role chunk may be among those withheld, and the openai SDK's stream helper needs one.
    return { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [{ index, delta: { role: 'assistant', content: refusal }, finish_reason: 'content_filter' }] };
  },
};

export const textAdapter: CompletionAdapter<TextRequest> = {
  route: '/v1/completions',
  enginePath: '/completions',
  operation: 'text_completion',
  validate(body) {
    return { kind: 'text', body: body as Record<string, unknown>, request: validation(CompletionRequest, body, 'completion') };
  },
  parse: (body, fields) => textAdapter.extract(textAdapter.validate(body), fields),
  extract({ body, request }, fields) {
    const extracted = extractCompletionRequest(body, request, fields);
    return {
      body: extracted.body,
      stream: request.stream === true,
      model: request.model,
      includeUsage: (request.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true,
      maxTokens: request.max_tokens ?? undefined,
      answerTokenField: 'max_tokens',
      inputTexts: extracted.texts,
      conversation: extracted.conversation,
    };
  },
  answers(json, context) {
    return wholeAnswers(engineAnswer(() => parseTextCompletion(json, false)), context, textChoiceLanes);
  },
  chunkLanes(json, context) {
    const chunk = engineAnswer(() => parseTextCompletion(json, true));
    return { chunk, lanes: chunkLanesBy(chunk, context, textChoiceLanes) };
  },
  blockChoices(json, blocked, refusal, context) {
    const choices = json.choices as { index?: number }[];
    choices.forEach((choice, i) => {
      if (!blocked.has(i)) return;
      choices[i] = { index: choice.index ?? i, text: refusal, logprobs: null, finish_reason: 'content_filter' } as { index: number };
    });
    dropUnknownMembers(json, context, 'text_completion');
  },
  contentFilterChunk(meta, index, refusal) {
    return { id: meta.id, object: 'text_completion', created: meta.created, model: meta.model, choices: [{ index, text: refusal, finish_reason: 'content_filter' }] };
  },
};

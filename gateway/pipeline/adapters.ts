import type { ChatTurn, ScanText } from '../../guards/types';
import { badRequest } from '../errors';
import { ChatCompletionRequest, CompletionRequest } from '../requestSchemas';
import type { StreamChunk } from '../streaming/answerAccumulator';
import { chatScanTexts, chatTurns, completionScanTexts, type AssistantAnswer } from './extractTexts';

/** What the guarded-completion flow needs to know about one endpoint's request and answer shapes. */
export interface CompletionAdapter {
  route: '/v1/chat/completions' | '/v1/completions';
  enginePath: '/chat/completions' | '/completions';
  operation: 'chat' | 'text_completion';
  parse(body: unknown): ParsedCompletion;
  /** Answers of a non-streamed response, by choice index. */
  answers(json: unknown): Map<number, AssistantAnswer>;
  /** Rewrites a non-streamed response so the blocked choices carry the refusal instead. */
  blockChoices(json: Record<string, unknown>, blocked: Set<number>, refusal: string): void;
  /** The final chunk of a stream whose answer was blocked. */
  contentFilterChunk(meta: StreamChunk, index: number, refusal: string): StreamChunk;
}

export interface ParsedCompletion {
  body: Record<string, unknown>;
  stream: boolean;
  model?: string;
  includeUsage: boolean;
  maxTokens?: number;
  inputTexts: ScanText[];
  conversation: ChatTurn[];
}

function validation<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, body: unknown, what: string): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`the request body must be a JSON object (${what})`);
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue.path.map(String).join('.') || null;
    throw badRequest(`invalid ${what} request: ${param ? `\`${param}\`: ` : ''}${issue.message}`, param);
  }
  return result.data;
}

export const chatAdapter: CompletionAdapter = {
  route: '/v1/chat/completions',
  enginePath: '/chat/completions',
  operation: 'chat',
  parse(body) {
    const request = validation(ChatCompletionRequest, body, 'chat completion');
    return {
      body: body as Record<string, unknown>,
      stream: request.stream === true,
      model: request.model,
      includeUsage: request.stream_options?.include_usage === true,
      maxTokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
      inputTexts: chatScanTexts(request.messages),
      conversation: chatTurns(request.messages),
    };
  },
  answers(json) {
    const out = new Map<number, AssistantAnswer>();
    const choices = (json as { choices?: unknown }).choices;
    if (!Array.isArray(choices)) return out;
    choices.forEach((choice: { index?: number; message?: { content?: unknown; tool_calls?: { function?: { name?: string; arguments?: string } }[] } }, i) => {
      const message = choice?.message;
      out.set(choice?.index ?? i, {
        content: typeof message?.content === 'string' ? message.content : '',
        toolCalls: (message?.tool_calls ?? []).map((c) => ({ name: c.function?.name ?? '', arguments: c.function?.arguments ?? '' })),
      });
    });
    return out;
  },
  blockChoices(json, blocked, refusal) {
    const choices = json.choices as { index?: number; message?: Record<string, unknown>; finish_reason?: string; logprobs?: unknown }[];
    choices.forEach((choice, i) => {
      if (!blocked.has(choice.index ?? i)) return;
      choice.message = { role: 'assistant', content: refusal };
      choice.finish_reason = 'content_filter';
      choice.logprobs = null;
    });
  },
  contentFilterChunk(meta, index, refusal) {
    return { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [{ index, delta: { content: refusal }, finish_reason: 'content_filter' }] };
  },
};

export const textAdapter: CompletionAdapter = {
  route: '/v1/completions',
  enginePath: '/completions',
  operation: 'text_completion',
  parse(body) {
    const request = validation(CompletionRequest, body, 'completion');
    const texts = completionScanTexts(request.prompt);
    return {
      body: body as Record<string, unknown>,
      stream: request.stream === true,
      model: request.model,
      includeUsage: request.stream_options?.include_usage === true,
      maxTokens: request.max_tokens ?? undefined,
      inputTexts: texts,
      conversation: [{ role: 'user', content: texts.map((t) => t.text).join('\n') }],
    };
  },
  answers(json) {
    const out = new Map<number, AssistantAnswer>();
    const choices = (json as { choices?: unknown }).choices;
    if (!Array.isArray(choices)) return out;
    choices.forEach((choice: { index?: number; text?: unknown }, i) => out.set(choice?.index ?? i, { content: typeof choice?.text === 'string' ? choice.text : '', toolCalls: [] }));
    return out;
  },
  blockChoices(json, blocked, refusal) {
    const choices = json.choices as { index?: number; text?: string; finish_reason?: string; logprobs?: unknown }[];
    choices.forEach((choice, i) => {
      if (!blocked.has(choice.index ?? i)) return;
      choice.text = refusal;
      choice.finish_reason = 'content_filter';
      choice.logprobs = null;
    });
  },
  contentFilterChunk(meta, index, refusal) {
    return { id: meta.id, object: 'text_completion', created: meta.created, model: meta.model, choices: [{ index, text: refusal, finish_reason: 'content_filter' }] };
  },
};

import { countTokens } from '../access/tokens/llama3Tokens';
import { chatPromptShape, completionPromptShape, countPromptTokens, responsesPromptShape } from '../access/tokens/promptTokens';
import type { ChunkMeta } from './answerAccumulator';

/**
 * The usage chunk a stream blocked mid-way still owes a client that asked for one
 * (`stream_options.include_usage`: OpenAI always sends it before `[DONE]`): the engine was stopped
 * before it sent its own, so the gateway counts with the Llama 3 tokenizer, as its token limits do:
 * the prompt as the engine renders it, and every token the engine generated before it was stopped.
 */
export async function countedUsageChunk(meta: ChunkMeta, route: string, body: Record<string, unknown>, generated: string, tokenHold?: { promptTokens: number }): Promise<string> {
  const prompt = tokenHold?.promptTokens ?? (await countPromptTokens(route === '/v1/completions' ? completionPromptShape(body) : chatPromptShape(body))).total;
  const completion = generated === '' ? 0 : await countTokens(generated);
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  return `data: ${JSON.stringify({ id: meta.id, object: meta.object, created: meta.created, model: meta.model, choices: [], usage })}\n\n`;
}

/**
 * The same for a Responses stream blocked before the engine's `response.completed`: the response
 * the client is left with (`response.incomplete`) says what was used, as a non-streamed or buffered
 * block's does, instead of the opening event's `usage: null`.
 */
export async function countedResponsesUsage(body: Record<string, unknown>, generated: string, tokenHold?: { promptTokens: number }): Promise<Record<string, unknown>> {
  const input = tokenHold?.promptTokens ?? (await countPromptTokens(responsesPromptShape(body))).total;
  const output = generated === '' ? 0 : await countTokens(generated);
  return { input_tokens: input, input_tokens_details: { cached_tokens: 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output };
}

import { countTokens } from '../access/tokens/llama3Tokens';
import { chatPromptShape, completionPromptShape, countPromptTokens } from '../access/tokens/promptTokens';
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

import type { ServerResponse } from 'node:http';
import type { HardeningLimits } from '../hardening/limitsConfig';
import type { AccessGrant, RequestContext } from '../../pipeline/requestContext';
import type { RequestRecord } from '../../record/requestRecord';
import { contextLengthError, contextWindow } from '../tokens/contextLength';
import { countTokens } from '../tokens/llama3Tokens';
import { countPromptTokens, type PromptShape } from '../tokens/promptTokens';
import { rateLimitHeaders, retryAfterSeconds, setHeaders } from './headers';
import type { LimiterStore } from './limiterStore';
import { rateLimitError } from './rateLimitError';
import { actualTokens, reservation, sameWindow, settlement, type EngineUsage, type Outcome } from './tokenReservation';

export interface TokenLimitOptions {
  store: LimiterStore;
  limits: Pick<HardeningLimits, 'context_tokens' | 'context_tokens_by_model'>;
  defaultMaxTokens: number;
}

/** Tokens never outnumber UTF-8 bytes (every Llama 3 token covers at least one byte), so small prompts need no exact count for the context check. */
export function couldExceedContext(shape: PromptShape, window: number): boolean {
  let bytes = shape.fixedTokens;
  for (const text of shape.texts) bytes += Buffer.byteLength(text, 'utf8');
  return bytes + (shape.maxTokens ?? 0) > window;
}

/**
 * Context length and tokens per minute of a validated request (its prompt shape). The request
 * reserves its prompt plus max_tokens (times the answers it asks for); the reservation is settled
 * from the engine's usage when the answer completes (settleTokens), or when the response closes
 * without one. Throws the 400 or 429.
 */
export function tokenLimits(options: TokenLimitOptions) {
  return async (ctx: RequestContext, res: ServerResponse, shape: PromptShape, param: 'messages' | 'prompt' | 'input'): Promise<void> => {
    const access = ctx.access;
    const window = contextWindow(shape.model, options.limits.context_tokens_by_model, options.limits.context_tokens);
    const tpm = access?.limits.tokens_per_minute;
    if (!tpm && !couldExceedContext(shape, window)) return;

    const prompt = await countPromptTokens(shape);
    const tooLong = contextLengthError(window, prompt.longest, shape.maxTokens, param);
    if (tooLong) throw tooLong;
    if (!tpm || !access) return;

    // Without a client limit, each answer gets default_max_tokens, or what the context window leaves
    // after the longest prompt if that is less: the engine is sent it as the limit (answerCap), and
    // prompt + max_tokens past the window is a 400 at vLLM, where no limit would have used the room left.
    const answerCap = shape.maxTokens === undefined ? Math.max(1, Math.min(options.defaultMaxTokens, window - prompt.longest)) : undefined;
    const reserved = reservation(prompt.total, shape.maxTokens !== undefined ? shape.maxTokens * shape.answers : undefined, (answerCap ?? options.defaultMaxTokens) * shape.answers);
    // Never handed to the store: a reservation past 2^53 was stored as parseInt("1e+21") = 1,
    // which reset the count instead of exceeding it (n is bounded now; this stays as the backstop).
    if (!Number.isSafeInteger(reserved)) throw rateLimitError('tokens', tpm, reserved, 0);
    const taken = await options.store.take('tokens', access.subject, tpm, reserved, true);
    setHeaders(res, rateLimitHeaders('tokens', { limit: tpm, remaining: taken.remaining, resetMs: taken.resetMs }));
    if (!taken.allowed) {
      // No wait helps a request larger than the whole budget (its 429 says not to retry).
      if (reserved <= tpm) res.setHeader('retry-after', String(retryAfterSeconds(taken.resetMs)));
      throw rateLimitError('tokens', tpm, reserved, taken.resetMs);
    }
    access.tokens = { reserved, promptTokens: prompt.total, limit: tpm, takenAt: taken.takenAt, resetMs: taken.resetMs, store: taken.store, settled: false };
    // Each answer's reserved limit (the client's, else answerCap): the engine is held to it.
    access.tokens.answerCap = shape.maxTokens ?? answerCap;
    // A request that ends before the pipeline records it (a refused field, a crash) still settles: it never got an answer.
    const onClose = () => {
      const hold = access.tokens;
      // The client left while the engine generated: the whole reservation stands (see settleTokens).
      if (hold && !res.writableFinished && ctx.timing.engineStartedAt !== undefined) hold.settled = true;
      void settle(options.store, access, () => ({ answered: false }));
    };
    // A client that left while the tokens were being taken already closed: settle now, as requestLimits gives back its slot.
    if (res.closed || res.destroyed) onClose();
    else res.once('close', onClose);
  };
}

/** The pipeline's hook when a request's record is complete: settles its token reservation from the engine's usage. */
export function settleTokens(store: LimiterStore) {
  return (record: RequestRecord, ctx: RequestContext): void => {
    const access = ctx.access;
    if (!access?.tokens || access.tokens.settled) return;
    const usage = record.engine?.usage as EngineUsage | undefined;
    // A client that left while the engine generated, or a stream that failed after it opened (engine
    // timeout, answer cap, guard fault): how much the client read is not known here, so the whole
    // reservation stands (a refund let a client read nearly all of an answer and pay its prompt).
    const cutShort = record.status === 499 || (record.status !== 200 && ctx.timing.answerStartedAt !== undefined);
    if (cutShort && ctx.timing.engineStartedAt !== undefined && !usage) {
      access.tokens.settled = true;
      return;
    }
    const answered = record.status === 200 && record.engine !== undefined;
    const output = record.content?.output.join('\n') ?? '';
    void settle(store, access, async () => ({ usage, answered, countedCompletionTokens: answered && !usage ? await countTokens(output) : undefined }));
  };
}

/** Settles once: the hold is marked before anything is awaited, so the close fallback cannot settle it a second time. */
async function settle(store: LimiterStore, access: AccessGrant, outcomeOf: () => Promise<Outcome> | Outcome): Promise<void> {
  const hold = access.tokens;
  if (!hold || hold.settled) return;
  hold.settled = true;
  const outcome = await outcomeOf();
  const delta = settlement(hold.reserved, actualTokens(hold.promptTokens, outcome));
  if (delta > 0 && sameWindow(hold.takenAt, hold.resetMs, Date.now())) await store.give('tokens', access.subject, hold.limit, delta, hold.store);
  else if (delta < 0) await store.charge('tokens', access.subject, hold.limit, -delta);
}

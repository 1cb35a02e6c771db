/**
 * A check's time budget grows with the text it reads: a base, plus so much per 1,000 tokens,
 * up to a cap. One fixed timeout either refuses long benign inputs (a 60K-token prompt needed
 * more than the old 5 s) or lets a stuck short check hang for minutes.
 *
 * Tokens are estimated as characters / 4 (English prose with Llama-style and DeBERTa-style
 * tokenizers runs at 3.5-4.5 characters per token), before any tokenizing: the budget has to be
 * known before the work starts, and counting exactly would cost a tokenizer pass of its own.
 * Text denser in tokens (code, CJK) gets relatively less time; the per-1K rate has headroom for it.
 */
import type { ChatTurn, ScanText } from '../types';

export interface TimeoutBudget {
  /** The budget of an empty request (ms). */
  baseMs: number;
  /** Added per 1,000 estimated tokens (ms); 0 or unset: a fixed timeout. */
  per1kTokensMs?: number;
  /** The cap (ms); unset: none. Never below baseMs. */
  maxMs?: number;
}

export const CHARS_PER_TOKEN = 4;

export function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** The budget for a check that reads `chars` characters. */
export function timeoutFor(budget: TimeoutBudget, chars: number): number {
  const per = budget.per1kTokensMs ?? 0;
  const scaled = budget.baseMs + (per * estimateTokens(chars)) / 1000;
  const cap = budget.maxMs === undefined ? Infinity : Math.max(budget.baseMs, budget.maxMs);
  return Math.round(Math.min(scaled, cap));
}

export function textsChars(texts: readonly ScanText[] | undefined): number {
  let n = 0;
  for (const t of texts ?? []) n += t.text.length;
  return n;
}

export function conversationChars(turns: readonly ChatTurn[] | undefined): number {
  let n = 0;
  for (const t of turns ?? []) {
    n += t.content.length;
    for (const call of t.toolCalls ?? []) n += call.length;
    for (const id of t.apart ?? []) n += id.length;
  }
  return n;
}

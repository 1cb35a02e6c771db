/**
 * Reads the answers of OpenAI-compatible servers (vLLM, Ollama, TGI, llama.cpp) serving Llama
 * Guard 3: the generated text, the top logprobs at the decision token, and their error bodies.
 * Shapes are validated loosely: servers add fields freely, and one missing optional field (logprobs)
 * must not turn a readable answer into an error.
 */
import { z } from 'zod';
import type { TokenLogprob } from './score';

export interface GuardCompletion {
  text: string;
  /** Alternatives at the first non-whitespace generated token (the decision), if the server sent logprobs. */
  decisionTop?: TokenLogprob[];
  /** The server stopped at max_tokens (`finish_reason: "length"`): the category list may be cut. */
  truncated?: boolean;
}

export type ReadResult = { ok: true; completion: GuardCompletion } | { ok: false; error: string };

const logprobEntry = z.object({ token: z.string(), logprob: z.number() });

const chatBody = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }),
        finish_reason: z.string().nullish(),
        logprobs: z
          .object({
            content: z.array(logprobEntry.extend({ top_logprobs: z.array(logprobEntry).nullish() })).nullish(),
          })
          .nullish(),
      }),
    )
    .min(1),
});

const completionBody = z.object({
  choices: z
    .array(
      z.object({
        text: z.string(),
        finish_reason: z.string().nullish(),
        logprobs: z
          .object({
            tokens: z.array(z.string()).nullish(),
            token_logprobs: z.array(z.number().nullable()).nullish(),
            top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullish(),
          })
          .nullish(),
      }),
    )
    .min(1),
});

/** `\n\n`, spaces, or their byte-level BPE spellings (Ċ, Ġ) when a server returns raw tokens. */
export function isBlankToken(token: string): boolean {
  return token.replace(/[ĊĠ]/g, '').trim() === '';
}

/** The chosen token plus its listed alternatives, so the decision is never missing from its own list. */
function withChosen(chosen: TokenLogprob, top: readonly TokenLogprob[]): TokenLogprob[] {
  return top.some((t) => t.token === chosen.token) ? [...top] : [chosen, ...top];
}

export function readChatCompletion(body: unknown): ReadResult {
  const parsed = chatBody.safeParse(body);
  if (!parsed.success) return { ok: false, error: `unexpected chat completion shape: ${shapeIssue(parsed.error)}` };
  const choice = parsed.data.choices[0]!;
  const text = choice.message.content ?? '';
  const entries = choice.logprobs?.content ?? [];
  const decision = entries.find((e) => !isBlankToken(e.token));
  const completion: GuardCompletion = { text };
  if (choice.finish_reason === 'length') completion.truncated = true;
  if (decision) completion.decisionTop = withChosen({ token: decision.token, logprob: decision.logprob }, decision.top_logprobs ?? []);
  return { ok: true, completion };
}

export function readTextCompletion(body: unknown): ReadResult {
  const parsed = completionBody.safeParse(body);
  if (!parsed.success) return { ok: false, error: `unexpected completion shape: ${shapeIssue(parsed.error)}` };
  const choice = parsed.data.choices[0]!;
  const completion: GuardCompletion = { text: choice.text };
  if (choice.finish_reason === 'length') completion.truncated = true;
  const tokens = choice.logprobs?.tokens ?? [];
  const i = tokens.findIndex((t) => !isBlankToken(t));
  if (i >= 0) {
    const top = Object.entries(choice.logprobs?.top_logprobs?.[i] ?? {}).map(([token, logprob]) => ({ token, logprob }));
    const chosenLogprob = choice.logprobs?.token_logprobs?.[i];
    completion.decisionTop =
      typeof chosenLogprob === 'number' ? withChosen({ token: tokens[i]!, logprob: chosenLogprob }, top) : top;
  }
  return { ok: true, completion };
}

const errorBodies = z.union([
  // vLLM (older): {"object":"error","message":..,"type":..,"param":..,"code":..}
  z.object({ object: z.literal('error'), message: z.string() }),
  // OpenAI, vLLM (newer), Ollama's /v1: {"error":{"message":..,"type":..}}
  z.object({ error: z.object({ message: z.string() }) }),
  // Ollama native, TGI: {"error":"..."}
  z.object({ error: z.string() }),
]);

/** The server's own error message, if the body is one of the known error shapes. */
export function readErrorBody(body: unknown): string | undefined {
  const parsed = errorBodies.safeParse(body);
  if (!parsed.success) return undefined;
  const value = parsed.data;
  if ('object' in value) return value.message;
  return typeof value.error === 'string' ? value.error : value.error.message;
}

function shapeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}

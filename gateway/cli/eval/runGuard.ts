import type { Guard, GuardError } from '../../../guards/types';
import { tokenPieces } from '../../access/tokens/llama3Tokens';
import { plannedWindows, type WindowSettings } from '../../streaming/windowChecks';
import { buildGuardRequest, type RequestStyle } from './guardRequest';
import type { EvalExample } from './selection';

/** What the guard said about one example: a score, or the error that kept it from scoring. */
export type GuardOutcome = { score: number; label: string; categories: string[]; stream?: StreamedChecks } | { error: GuardError };

/** An answer scored streamed (--streamed): its length and each check with what had gone out before it. */
export interface StreamedChecks {
  /** Text events (Llama 3 tokens) in the answer. */
  tokens: number;
  /** In the order window mode runs them; `released`: text events already sent when the check ran; `end`: run when the stream ended. */
  checks: { released: number; score: number; end: boolean }[];
}

export interface RunOptions {
  style: RequestStyle;
  /** Checks in flight at once; the encoder guards batch concurrent checks, so more than 1 pays. */
  concurrency: number;
  /** Called after each example with how many are done. */
  onProgress?: (done: number) => void;
  /** As a rule's `score: injection` asks (GuardRequest.score). */
  score?: 'injection';
  /**
   * Answers as window mode checks a stream (content-safety guards): the answer cut into Llama 3
   * tokens, one per engine chunk, each window of the policy's streaming settings checked, and the
   * whole answer at the end; the score is the highest (any check over the threshold blocks).
   */
  streamed?: WindowSettings;
}

/**
 * Runs `guard.check()` once per example, as the gateway would for a request holding that text.
 * Never throws for a guard failure: check() reports failures as error verdicts, and a check that
 * throws anyway (a bug) is recorded the same way, so one bad record cannot end a long run.
 */
export async function runGuard(guard: Guard, examples: readonly EvalExample[], options: RunOptions): Promise<GuardOutcome[]> {
  const outcomes: GuardOutcome[] = new Array(examples.length);
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    while (next < examples.length) {
      const i = next++;
      const example = examples[i];
      outcomes[i] = options.streamed && options.style === 'conversation' && example.role === 'assistant' ? await checkStreamed(guard, example, options.streamed) : await checkOne(guard, options.style, example, options.score);
      done += 1;
      options.onProgress?.(done);
    }
  }
  const workers = Math.max(1, Math.min(options.concurrency, examples.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return outcomes;
}

async function checkOne(guard: Guard, style: RequestStyle, example: EvalExample, score: 'injection' | undefined): Promise<GuardOutcome> {
  try {
    const verdict = await guard.check(buildGuardRequest(style, example, score));
    if (verdict.error) return { error: verdict.error };
    // A score outside [0, 1] would corrupt every curve; treat it as the guard's failure.
    if (!Number.isFinite(verdict.score) || verdict.score < 0 || verdict.score > 1) {
      return { error: { type: 'model_error', message: `score ${verdict.score} is not a probability` } };
    }
    return { score: verdict.score, label: verdict.label, categories: verdict.categories };
  } catch (err) {
    return { error: { type: 'model_error', message: (err as Error)?.message ?? String(err) } };
  }
}

/** One answer as window mode would check it streamed: the worst of its checks (each kept, with what was released before it), or the first error. */
async function checkStreamed(guard: Guard, example: EvalExample, settings: WindowSettings): Promise<GuardOutcome> {
  const pieces = tokenPieces(example.text);
  let worst: GuardOutcome | undefined;
  const checks: StreamedChecks['checks'] = [];
  for (const { from, to, released, end } of plannedWindows(pieces.length, settings)) {
    const outcome = await checkOne(guard, 'conversation', { ...example, text: pieces.slice(from, to).join('') }, undefined);
    if ('error' in outcome) return outcome;
    checks.push({ released, score: outcome.score, end });
    if (!worst || ('score' in worst && outcome.score > worst.score)) worst = outcome;
  }
  if (!worst) return checkOne(guard, 'conversation', example, undefined);
  return { ...worst, stream: { tokens: pieces.length, checks } };
}

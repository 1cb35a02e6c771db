/**
 * What every Llama Guard backend does around its model call: prepare every turn's text as the
 * encoder guards do (../text/prepareConversation.ts: sanitized, look-alikes mapped, decoded
 * payloads appended to their turn; findings added to the verdict's categories), normalize the
 * conversation, enforce the deadline and the caller's abort, time the run, and turn every
 * failure into a Verdict (a guard never throws from check()).
 */
import { performance } from 'node:perf_hooks';
import { prepareConversation } from '../text/prepareConversation';
import { errorVerdict, type GuardError, type GuardRequest, type Verdict } from '../types';
import type { Assessment } from './parse';
import { type GuardRole, type GuardTurn, normalizeTurns, roleFor, type SystemTurnRule, TurnNormalizationError } from './turns';
import { type CheckOutcome, combinedOutcome } from './checkOutcome';
import { conversationsToRead } from './readApart';
import { assessmentVerdict } from './verdict';

export type { CheckOutcome } from './checkOutcome';

export interface CheckContext {
  guard: string;
  model: string;
  timeoutMs: number;
  system: SystemTurnRule;
}

export type CheckWork = (turns: GuardTurn[], role: GuardRole, signal: AbortSignal) => Promise<CheckOutcome>;

export async function runCheck(ctx: CheckContext, request: GuardRequest, work: CheckWork): Promise<Verdict> {
  const start = performance.now();
  const elapsed = (): number => performance.now() - start;
  const fail = (error: GuardError): Verdict => errorVerdict(ctx.guard, ctx.model, error, elapsed());

  let prepared: Awaited<ReturnType<typeof prepareConversation>>;
  try {
    prepared = await prepareConversation(request.conversation ?? [], request.signal);
  } catch (err) {
    // Preparation only throws when the caller aborts between its slices.
    return fail(request.signal?.aborted ? { type: 'cancelled', message: 'the request was aborted before the check' } : { type: 'unavailable', message: errorMessage(err) });
  }

  let conversations: GuardTurn[][];
  try {
    conversations = conversationsToRead(prepared.conversation, request.direction, ctx.system).map((turns) => normalizeTurns(turns, request.direction, { system: ctx.system }));
  } catch (err) {
    if (err instanceof TurnNormalizationError) return fail({ type: 'bad_input', message: err.message });
    throw err;
  }

  if (request.signal?.aborted) return fail({ type: 'cancelled', message: 'the request was aborted before the check' });
  const deadline = new AbortController();
  const signal = request.signal ? AbortSignal.any([deadline.signal, request.signal]) : deadline.signal;
  let timer: NodeJS.Timeout | undefined;
  // Settles when the deadline passes or the caller aborts; the model call may not notice an abort
  // (an ONNX run cannot be interrupted), so the verdict must not wait for it.
  const stopped = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => deadline.abort(), ctx.timeoutMs);
    signal.addEventListener('abort', () => resolve(abortOutcome(deadline.signal.aborted, ctx.timeoutMs)), { once: true });
  });

  let outcome: CheckOutcome;
  try {
    outcome = await Promise.race([readEach(conversations, roleFor(request.direction), signal, work), stopped]);
  } catch (err) {
    outcome = signal.aborted
      ? abortOutcome(deadline.signal.aborted, ctx.timeoutMs)
      : { kind: 'error', error: { type: 'model_error', message: errorMessage(err) } };
  } finally {
    clearTimeout(timer);
  }
  if (outcome.kind === 'error') return fail(outcome.error);
  const verdict = assessmentVerdict({ guard: ctx.guard, model: ctx.model, assessment: outcome.assessment, pUnsafe: outcome.pUnsafe, latencyMs: elapsed() });
  return verdict.error ? verdict : { ...verdict, categories: [...verdict.categories, ...prepared.findings], ...(outcome.leanings ? { leanings: outcome.leanings } : {}) };
}

/** Parallel model calls for the readings of one check (conversationsToRead); more would only queue at the server. */
const READINGS_AT_ONCE = 4;

/**
 * Every reading of one check, a few at a time. The first error decides the verdict, so it stops
 * the rest: no new call starts, and the calls in flight are aborted (waited for, the verdict would
 * report their abort as a timeout instead of the error).
 */
async function readEach(conversations: GuardTurn[][], role: GuardRole, signal: AbortSignal, work: CheckWork): Promise<CheckOutcome> {
  if (conversations.length === 1) return work(conversations[0]!, role, signal);
  const stop = new AbortController();
  const lanes = AbortSignal.any([signal, stop.signal]);
  const outcomes: CheckOutcome[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (!lanes.aborted && next < conversations.length) {
      let outcome: CheckOutcome;
      try {
        outcome = await work(conversations[next++]!, role, lanes);
      } catch (err) {
        if (stop.signal.aborted && !signal.aborted) return; // stopped by a sibling's error, which stands
        stop.abort(); // this error ends the check (runCheck reports it): no call may go on after it
        throw err;
      }
      if (stop.signal.aborted) return;
      outcomes.push(outcome);
      if (outcome.kind === 'error' || !outcome.assessment.ok) stop.abort();
    }
  };
  await Promise.all(Array.from({ length: Math.min(READINGS_AT_ONCE, conversations.length) }, lane));
  return combinedOutcome(outcomes);
}

function abortOutcome(byDeadline: boolean, timeoutMs: number): CheckOutcome {
  return byDeadline
    ? { kind: 'error', error: { type: 'timeout', message: `no answer within ${timeoutMs} ms` } }
    : { kind: 'error', error: { type: 'cancelled', message: 'the request was aborted before the guard finished' } };
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

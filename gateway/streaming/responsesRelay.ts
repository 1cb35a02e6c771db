import type { ResponseObject } from '../../engine/answerSchema';
import type { EngineResponse } from '../../engine/client';
import { ApiError } from '../errors';
import { engineApiError } from '../pipeline/engineErrors';
import { deliveredText } from '../pipeline/extractTexts';
import type { GuardedCall } from '../pipeline/guardedCall';
import { blockedResponse, blockedTailEvents, cleanEnvelope, minimalResponse, refusalItemId, sseEvent } from '../pipeline/responses/blockedResponse';
import type { ParsedResponses } from '../pipeline/responses/parsedResponses';
import { openSse, write } from './sseWrite';
import { ReleasedItems } from './releasedItems';
import { REFUSAL_SEPARATOR } from './refusalSeparator';
import { ResponsesAccumulator } from './responsesAccumulator';
import { responseEvents, type ResponseEngineEvent } from './responsesEvents';
import { checkedReleaser, windowSettings, WindowChecks } from './windowChecks';
import { countedResponsesUsage } from './blockUsage';
import { HeldEvents } from './heldEvents';
import { connectionClosedOutcome } from '../pipeline/connectionCut';

/**
 * Streams a Responses answer to the client in the policy's streaming mode, as relayStream.ts does
 * for chat: `buffer` releases nothing until the whole answer passed; `window` releases events as
 * the text they carry passes (every `window_tokens` text events, re-reading `overlap_tokens`,
 * and the whole answer at the end: windowChecks.ts), never an unchecked one; `off` relays as it comes. A blocked answer ends with the refusal as a
 * message of its own and `response.incomplete` (reason `content_filter`); an engine failure after
 * bytes went out ends with an `error` event. Passed events go out exactly as the engine sent them.
 */
export async function relayResponses(call: Call, upstream: EngineResponse): Promise<void> {
  const policy = call.policy;
  const mode = policy.output.length === 0 ? 'off' : policy.streaming.mode;
  if (mode === 'buffer') return relayBuffered(call, upstream);
  if (mode === 'window') return relayWindowed(call, upstream);
  return relayPassthrough(call, upstream);
}

type Call = GuardedCall<ParsedResponses>;

/** What the client was told so far: what events the gateway writes itself must follow. */
interface Released {
  lastSequence?: number;
  /** output_item.added events released: the output index of the next item. */
  outputItems: number;
  /** Whether `response.created` went out. */
  opened: boolean;
  /** The message items the client was shown, as far as it got them (window mode). */
  items?: ReleasedItems;
}

function noteReleased(released: Released, event: ResponseEngineEvent): void {
  const e = event.event;
  if (!e) return;
  if (typeof e.sequence_number === 'number') released.lastSequence = e.sequence_number;
  if (e.type === 'response.output_item.added') released.outputItems += 1;
  if (e.type === 'response.created') released.opened = true;
  released.items?.note(e);
}

/** The refusal and `response.incomplete`, numbered after what went out; ends the response. */
async function writeBlockedTail(call: Call, accumulator: ResponsesAccumulator, released: Released): Promise<void> {
  const sent = call.parsed.body;
  const base = (accumulator.final ?? accumulator.opening ?? minimalResponse(undefined, call.parsed.model)) as Record<string, unknown>;
  const itemId = refusalItemId();
  // After text the client already shows, the refusal starts a paragraph of its own (the SDKs' output_text joins items without one).
  const refusal = released.items?.showedText() ? `${REFUSAL_SEPARATOR}${call.policy.refusals.output}` : call.policy.refusals.output;
  const blocked = blockedResponse(base, sent, refusal, itemId);
  // Stopped before the engine's own count (its opening response says `usage: null`): the gateway's.
  if (blocked.usage === null || blocked.usage === undefined) blocked.usage = await countedResponsesUsage(sent, deliveredText(accumulator.answer()), call.ctx.access?.tokens);
  // Listed as the events indexed them: what went out of each item the client was told of, then the refusal.
  const incomplete = { ...blocked, output: [...(released.items?.announced() ?? []), ...(blocked.output as unknown[])] };
  const events = blockedTailEvents({
    sequence: released.lastSequence === undefined ? 0 : released.lastSequence + 1,
    outputIndex: released.outputItems,
    itemId,
    refusal,
    incomplete,
    opening: released.opened ? undefined : cleanEnvelope((accumulator.opening ?? base) as Record<string, unknown>, sent),
  });
  for (const event of events) await write(call.res, sseEvent(event));
  // What the client now holds of this response (what was released of it, and the refusal) can be referred back to.
  // As response.incomplete lists it: a blocked turn's calls are not continued from.
  const output = [...(released.items?.announced() ?? []), ...(blocked.output as unknown[])];
  call.parsed.remember({ ...incomplete, output } as Pick<ResponseObject, 'id' | 'output'>);
  call.res.end();
}

/** buffer: nothing is released until the whole answer passed the output guard. */
async function relayBuffered(call: Call, upstream: EngineResponse): Promise<void> {
  const { res, record } = call;
  const timing = call.ctx.timing;
  const accumulator = new ResponsesAccumulator(call.parsed.body);
  const events: ResponseEngineEvent[] = [];
  for await (const event of responseEvents(upstream, accumulator)) if (!event.keepAlive) events.push(event);
  timing.engineAnswered();
  record.engine = accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
  const answer = accumulator.answer();
  call.delivered([answer]);
  const phase = await call.checkAnswer(answer, 0);
  call.answersChecked([phase]);
  await call.finish(200);
  await openSse(call);
  if (phase.decision.action === 'block') return writeBlockedTail(call, accumulator, { outputItems: 0, opened: false });
  call.parsed.remember(accumulator.final);
  for (const event of events) await write(res, event.raw);
  res.end();
}

/** window: events go out once the text they carry passed a check. */
async function relayWindowed(call: Call, upstream: EngineResponse): Promise<void> {
  const { res, record } = call;
  const timing = call.ctx.timing;
  const accumulator = new ResponsesAccumulator(call.parsed.body);
  const pending = new HeldEvents<ResponseEngineEvent>();
  const released: Released = { outputItems: 0, opened: false, items: new ReleasedItems() };
  const checks = new WindowChecks(
    { get textEvents() { return accumulator.textEvents; }, window: (checked, to, overlap) => accumulator.window(checked, to, overlap), whole: () => accumulator.answer() },
    { check: (answers) => call.checkAnswers(answers.map((a) => [a, 0] as const)) },
    windowSettings(call.policy.streaming),
  );

  /** Text events released so far (any text: message, reasoning, call arguments), as chat's relay counts them. */
  let releasedTo = 0;
  const release = async (upTo: number) => {
    await openSse(call);
    for (const { event, tokenEnd } of pending.releaseUpTo(upTo)) {
      await write(res, event.raw);
      noteReleased(released, event);
      releasedTo = Math.max(releasedTo, tokenEnd);
    }
  };
  // A window that passed goes out once text after it arrives (WindowChecks.releasable).
  const releaseChecked = checkedReleaser(checks, release);
  const block = async () => {
    call.abortUpstream();
    record.engine = accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
    call.delivered([accumulator.answer()]);
    // Checked text reached the client before the block (message text, reasoning or call arguments): the record says so.
    if (releasedTo > 0) record.partial = true;
    await call.finish(200);
    // Headers already sent carry the verdict at their time; the audit record carries the block.
    await openSse(call);
    await writeBlockedTail(call, accumulator, released);
  };

  try {
    for await (const event of responseEvents(upstream, accumulator)) {
      timing.engineAnswered();
      pending.push(event, accumulator.textEvents);
      await releaseChecked();
      if (checks.due() && !(await checks.checkWindow())) return await block();
    }
    record.engine = accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
    if (!(await checks.checkEnd())) return await block();
    call.delivered([accumulator.answer()]);
    await call.finish(200);
    call.parsed.remember(accumulator.final);
    await release(Number.POSITIVE_INFINITY);
    res.end();
  } catch (err) {
    if (!res.headersSent) throw err;
    // Text went out before the failure: the record keeps what the engine sent, as a block's does.
    record.engine ??= accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
    call.delivered([accumulator.answer()]);
    await endWithErrorEvent(call, err, released);
  }
}

/** off: events go straight through as they arrive (no output check on streams); still only readable ones. */
async function relayPassthrough(call: Call, upstream: EngineResponse): Promise<void> {
  const { res, record } = call;
  // The policy has output rules but streams unchecked (streaming.mode off): the record says so.
  if (call.policy.output.length > 0) record.outputUnchecked = 'streaming_off';
  const timing = call.ctx.timing;
  const accumulator = new ResponsesAccumulator(call.parsed.body);
  const released: Released = { outputItems: 0, opened: false };
  try {
    for await (const event of responseEvents(upstream, accumulator)) {
      if (!res.headersSent) {
        timing.engineAnswered();
        await openSse(call);
      }
      if (event.terminal) {
        record.engine = accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
        call.delivered([accumulator.answer()]);
        await call.finish(200);
        call.parsed.remember(accumulator.final);
      }
      await write(res, event.raw);
      noteReleased(released, event);
    }
    res.end();
  } catch (err) {
    if (!res.headersSent) throw err;
    // Text went out before the failure: the record keeps what the engine sent, as a block's does.
    record.engine ??= accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
    call.delivered([accumulator.answer()]);
    await endWithErrorEvent(call, err, released);
  }
}

/**
 * After bytes reached the client, a failure ends the stream with a Responses `error` event: `code`,
 * `message` and `param` where OpenAI documents them, and the usual `error` object too (what the
 * `openai` clients raise an APIError on, and what the API itself sends).
 */
async function endWithErrorEvent(call: Call, err: unknown, released: Released): Promise<void> {
  let apiError = err instanceof ApiError ? err : engineApiError(err);
  if (apiError.status === 499) {
    const closed = connectionClosedOutcome(call.res);
    await call.finish(closed.status, closed.error).catch(() => undefined);
    return;
  }
  try {
    await call.finish(apiError.status, { type: apiError.code ?? 'engine_error', message: apiError.message });
  } catch (recordErr) {
    // The record could not be written: the stream ends with that error (503 audit_unavailable), as chat streams do.
    if (recordErr instanceof ApiError) apiError = recordErr;
  }
  const res = call.res;
  if (res.writableEnded || res.destroyed) return;
  const sequence = released.lastSequence === undefined ? 0 : released.lastSequence + 1;
  await write(res, sseEvent({ type: 'error', sequence_number: sequence, code: apiError.code, message: apiError.message, param: apiError.param, ...apiError.body() }));
  res.end();
}

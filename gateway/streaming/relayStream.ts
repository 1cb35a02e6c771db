import type { EngineResponse } from '../../engine/client';
import { EngineError } from '../../engine/errors';
import type { CompletionAdapter } from '../pipeline/adapters';
import type { GuardedCall } from '../pipeline/guardedCall';
import { AnswerAccumulator } from './answerAccumulator';
import { writableEnvelope } from './chunkEnvelope';
import { engineEvents, type EngineEvent } from './engineEvents';
import { expectedChoices, unaskedChoice } from './expectedChoices';
import { openSse, write } from './sseWrite';
import { endStreamWithError } from './streamError';
import { relayWindowed } from './windowedRelay';

/** Streams an engine answer (chat or text completion chunks) to the client in the policy's streaming mode. */
export async function relayStream(call: GuardedCall, upstream: EngineResponse, adapter: CompletionAdapter): Promise<void> {
  const mode = call.policy.output.length === 0 ? 'off' : call.policy.streaming.mode;
  if (mode === 'buffer') return relayBuffered(call, upstream, adapter);
  // Several answers (n > 1, or a list of prompts) are checked whole (buffer): windows track one answer.
  if (mode === 'window' && expectedChoices(call.parsed.body) === 1) return relayWindowed(call, upstream, adapter);
  if (mode === 'window') return relayBuffered(call, upstream, adapter);
  return relayPassthrough(call, upstream, adapter);
}

/** buffer: nothing is released until the whole answer passed the output guard. */
async function relayBuffered(call: GuardedCall, upstream: EngineResponse, adapter: CompletionAdapter): Promise<void> {
  const { res, record } = call;
  const timing = call.ctx.timing;
  const accumulator = new AnswerAccumulator({ model: call.parsed.model });
  const events: EngineEvent[] = [];
  let sawDone = false;
  for await (const event of engineEvents(upstream, accumulator, adapter)) {
    // Keep-alives kept the engine connection open; replayed at once they mean nothing.
    if (!event.keepAlive) events.push(event);
    if (event.done) sawDone = true;
  }
  timing.engineAnswered();
  if (!sawDone) throw new EngineError('bad_gateway', 'the engine stream ended without [DONE]');
  record.engine = accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
  const indexes = accumulator.choiceIndexes();
  if (unaskedChoice(indexes, call.parsed.body) !== undefined) throw new EngineError('bad_gateway', 'the engine sent more answers than the request asked for');
  call.delivered(indexes.map((i) => accumulator.answer(i)));
  const phases = await call.checkAnswers(indexes.map((i) => [accumulator.answer(i), i] as const));
  const blocked = new Set(phases.filter((p) => p.decision.action === 'block').map((p) => p.choice));
  await call.finish(200);
  await openSse(call);
  if (blocked.size === 0) {
    for (const event of events) await write(res, event.raw);
    res.end();
    return;
  }
  await writeBlockedStream(call, adapter, events, blocked, accumulator);
}

/**
 * Replays a buffered stream with the blocked choices' text removed: their chunks are dropped, a
 * content_filter chunk takes their place, and usage and [DONE] keep their positions. Members the
 * gateway does not know (checked with every choice) are dropped from every chunk.
 */
async function writeBlockedStream(call: GuardedCall, adapter: CompletionAdapter, events: EngineEvent[], blocked: Set<number>, accumulator: AnswerAccumulator): Promise<void> {
  const res = call.res;
  const refusal = call.policy.refusals.output;
  let filterWritten = false;
  const writeFilter = async () => {
    if (filterWritten) return;
    filterWritten = true;
    for (const index of [...blocked].sort((a, b) => a - b)) await write(res, `data: ${JSON.stringify(adapter.contentFilterChunk(accumulator.writableMeta, index, refusal))}\n\n`);
  };
  for (const event of events) {
    const chunk = event.chunk;
    if (event.done) {
      await writeFilter();
      await write(res, event.raw);
      continue;
    }
    if (!chunk) continue;
    const envelope = writableEnvelope(chunk, accumulator);
    // As sent only when nothing was left out or replaced (an unplain model, or a changed id, may be what was blocked).
    const clean = Object.keys(chunk).every((key) => key === 'choices' || (Object.hasOwn(envelope, key) && envelope[key] === chunk[key]));
    if (chunk.choices.length === 0) {
      // Usage-only chunks come after the choices' final chunks: the content_filter chunk goes first.
      if (chunk.usage) await writeFilter();
      await write(res, clean ? event.raw : `data: ${JSON.stringify(envelope)}\n\n`);
      continue;
    }
    const kept = chunk.choices.filter((c) => !blocked.has(c.index ?? 0));
    if (kept.length === chunk.choices.length && clean) await write(res, event.raw);
    else if (kept.length > 0) await write(res, `data: ${JSON.stringify({ ...envelope, choices: kept })}\n\n`);
    else if (chunk.usage) {
      await writeFilter();
      await write(res, `data: ${JSON.stringify({ ...envelope, choices: [] })}\n\n`);
    }
  }
  await writeFilter();
  res.end();
}


/** off: events go straight through as they arrive (no output check on streams). */
async function relayPassthrough(call: GuardedCall, upstream: EngineResponse, adapter: CompletionAdapter): Promise<void> {
  const { res, record } = call;
  // The policy has output rules but streams unchecked (streaming.mode off): the record says so.
  if (call.policy.output.length > 0) record.outputUnchecked = 'streaming_off';
  const timing = call.ctx.timing;
  const accumulator = new AnswerAccumulator({ model: call.parsed.model });
  let started = false;
  let sawDone = false;
  try {
    for await (const event of engineEvents(upstream, accumulator, adapter)) {
      if (!started) {
        started = true;
        timing.engineAnswered();
        await openSse(call);
      }
      if (event.done) {
        record.engine = accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
        call.delivered(accumulator.choiceIndexes().map((i) => accumulator.answer(i)));
        await call.finish(200);
      }
      await write(res, event.raw);
      if (event.done) sawDone = true;
    }
    if (!started) throw new EngineError('bad_gateway', 'the engine sent an empty stream');
    // A stream cut short must not look complete: the client gets an error event and [DONE], the record a failure.
    if (!sawDone) throw new EngineError('bad_gateway', 'the engine stream ended without [DONE]');
    res.end();
  } catch (err) {
    // Nothing went out (the engine sent nothing, or the stream's start could not be recorded): an error answer, not a 200.
    if (!res.headersSent) throw err;
    // Text went out before the failure: the record keeps what the engine sent.
    record.engine ??= accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
    call.delivered(accumulator.choiceIndexes().map((i) => accumulator.answer(i)));
    await endStreamWithError(call, err);
  }
}

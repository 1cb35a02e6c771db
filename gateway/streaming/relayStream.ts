import type { Response } from 'express';
import type { EngineResponse } from '../../engine/client';
import { EngineError, classifyEngineError } from '../../engine/errors';
import type { CompletionAdapter, ParsedCompletion } from '../pipeline/adapters';
import { ApiError } from '../errors';
import { engineApiError } from '../pipeline/engineErrors';
import { ENVELOPE_STRUCTURE } from '../pipeline/extract/answerLanes';
import type { AssistantAnswer } from '../pipeline/extractTexts';
import type { GuardPhase } from '../pipeline/runRules';
import type { PolicyRuntime } from '../policyRuntime';
import { contextOf, setSafetyHeaders } from '../requestContext';
import type { RequestRecord } from '../requestRecord';
import { AnswerAccumulator, type StreamChunk } from './answerAccumulator';
import { SseParser, type SseEvent } from './sseParser';
import { relayWindowed } from './windowedRelay';

export interface RelayInput {
  adapter: CompletionAdapter;
  parsed: ParsedCompletion;
  upstream: EngineResponse;
  runtime: PolicyRuntime;
  record: RequestRecord;
  res: Response;
  engineStarted: number;
  finish: (status: number, error?: { type: string; message: string }) => Promise<void>;
  checkAnswer: (answer: AssistantAnswer, choice: number) => Promise<GuardPhase & { choice: number }>;
  /** Cancels the engine request (window mode stops generation on unsafe). */
  abortUpstream?: () => void;
}

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };

/** Streams an engine answer to the client in the policy's streaming mode. */
export async function relayStream(input: RelayInput): Promise<void> {
  const mode = input.runtime.loaded.policy.output.length === 0 ? 'off' : input.runtime.loaded.policy.streaming.mode;
  if (mode === 'buffer') return relayBuffered(input);
  // Several choices are checked whole (buffer): windows track one answer.
  if (mode === 'window' && !(Number(input.parsed.body.n) > 1)) return relayWindowed(input);
  if (mode === 'window') return relayBuffered(input);
  return relayPassthrough(input);
}

export type EngineEvent = SseEvent & { chunk?: StreamChunk; done?: boolean; keepAlive?: boolean };

/**
 * Parses the engine's SSE body into events, feeding the accumulator, up to `[DONE]`. An event the
 * gateway cannot read as a completion chunk (not JSON, `null`, a number, no `choices`, an `error`
 * member, members of the wrong type) is an engine failure (EngineError, 502): it is never relayed,
 * because its text could not be checked. Data events are relayed as received when they hold only
 * `data:` lines, else rewritten as one; comments and other fields become a bare keep-alive (their
 * text is nothing a client reads, and is not checked).
 */
export async function* engineEvents(upstream: EngineResponse, accumulator: AnswerAccumulator, adapter: CompletionAdapter): AsyncGenerator<EngineEvent> {
  const parser = new SseParser();
  const annotate = (event: SseEvent): EngineEvent => {
    if (event.data === undefined) return { raw: KEEP_ALIVE, keepAlive: true };
    if (event.data.trim() === '[DONE]') return { raw: onlyData(event.raw) ? event.raw : 'data: [DONE]\n\n', data: event.data, done: true };
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      throw new EngineError('bad_gateway', 'the engine sent a stream event that is not JSON');
    }
    const { chunk, lanes } = adapter.chunkLanes(json);
    accumulator.add(chunk, lanes);
    return { raw: onlyData(event.raw) ? event.raw : `data: ${event.data}\n\n`, data: event.data, chunk };
  };
  try {
    for await (const bytes of upstream.body) {
      for (const event of parser.push(bytes as Uint8Array)) {
        const annotated = annotate(event);
        yield annotated;
        // Nothing after [DONE] is read, let alone relayed.
        if (annotated.done) return;
      }
    }
    for (const event of parser.end()) {
      const annotated = annotate(event);
      yield annotated;
      if (annotated.done) return;
    }
  } catch (err) {
    throw err instanceof EngineError ? err : classifyEngineError(err, 'stream');
  }
}

const KEEP_ALIVE = ':\n\n';

/** True when every line of the event is a `data:` line (what can be relayed byte for byte). */
function onlyData(raw: string): boolean {
  return raw.split(/\r\n|\r|\n/).every((line) => line === '' || line.startsWith('data:'));
}

/** buffer: nothing is released until the whole answer passed the output guard. */
async function relayBuffered(input: RelayInput): Promise<void> {
  const { res, runtime, record } = input;
  const ctx = contextOf(res);
  const accumulator = new AnswerAccumulator();
  const events: EngineEvent[] = [];
  let sawDone = false;
  for await (const event of engineEvents(input.upstream, accumulator, input.adapter)) {
    // Keep-alives kept the engine connection open; replayed at once they mean nothing.
    if (!event.keepAlive) events.push(event);
    if (event.done) sawDone = true;
  }
  ctx.engineMs += performance.now() - input.engineStarted;
  if (!sawDone) throw new EngineError('bad_gateway', 'the engine stream ended without [DONE]');
  record.engine = accumulator.engineSummary(input.engineStarted);
  const indexes = accumulator.choiceIndexes();
  record.content?.output.push(...indexes.map((i) => accumulator.answer(i).content));
  const phases = await Promise.all(indexes.map((i) => input.checkAnswer(accumulator.answer(i), i)));
  record.outputs.push(...phases);
  ctx.guardMs += Math.max(0, ...phases.map((p) => p.durationMs));
  const blocked = new Set(phases.filter((p) => p.decision.action === 'block').map((p) => p.choice));
  await input.finish(200);
  setSafetyHeaders(res, record.action, runtime.ref);
  res.writeHead(200, SSE_HEADERS);
  if (blocked.size === 0) {
    for (const event of events) await write(res, event.raw);
    res.end();
    return;
  }
  await writeBlockedStream(input, events, blocked, accumulator);
}

/**
 * Replays a buffered stream with the blocked choices' text removed: their chunks are dropped, a
 * content_filter chunk takes their place, and usage and [DONE] keep their positions. Members the
 * gateway does not know (checked with every choice) are dropped from every chunk.
 */
async function writeBlockedStream(input: RelayInput, events: EngineEvent[], blocked: Set<number>, accumulator: AnswerAccumulator): Promise<void> {
  const { res, adapter, runtime } = input;
  const refusal = runtime.loaded.policy.refusals.output;
  let filterWritten = false;
  const writeFilter = async () => {
    if (filterWritten) return;
    filterWritten = true;
    for (const index of [...blocked].sort((a, b) => a - b)) await write(res, `data: ${JSON.stringify(adapter.contentFilterChunk(accumulator.meta, index, refusal))}\n\n`);
  };
  for (const event of events) {
    const chunk = event.chunk;
    if (event.done) {
      await writeFilter();
      await write(res, event.raw);
      continue;
    }
    if (!chunk) continue;
    const envelope = knownEnvelope(chunk);
    const clean = Object.keys(envelope).length === Object.keys(chunk).length;
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

function knownEnvelope(chunk: StreamChunk): StreamChunk {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(chunk)) if (ENVELOPE_STRUCTURE.has(key)) out[key] = value;
  return out as StreamChunk;
}

/** off: events go straight through as they arrive (no output check on streams). */
async function relayPassthrough(input: RelayInput): Promise<void> {
  const { res, runtime, record } = input;
  const ctx = contextOf(res);
  const accumulator = new AnswerAccumulator();
  let started = false;
  let sawDone = false;
  try {
    for await (const event of engineEvents(input.upstream, accumulator, input.adapter)) {
      if (!started) {
        started = true;
        ctx.engineMs += performance.now() - input.engineStarted;
        setSafetyHeaders(res, record.action, runtime.ref);
        res.writeHead(200, SSE_HEADERS);
      }
      if (event.done) {
        record.engine = accumulator.engineSummary(input.engineStarted);
        record.content?.output.push(...accumulator.choiceIndexes().map((i) => accumulator.answer(i).content));
        await input.finish(200);
      }
      await write(res, event.raw);
      if (event.done) sawDone = true;
    }
    if (!started) throw new EngineError('bad_gateway', 'the engine sent an empty stream');
    // A stream cut short must not look complete: the client gets an error event and [DONE], the record a failure.
    if (!sawDone) throw new EngineError('bad_gateway', 'the engine stream ended without [DONE]');
    res.end();
  } catch (err) {
    if (!started) throw err;
    await endStreamWithError(input, err);
  }
}

/** After bytes reached the client, a failure ends the stream cleanly with an OpenAI error event. */
export async function endStreamWithError(input: RelayInput, err: unknown): Promise<void> {
  // A gateway error (e.g. the audit log failing: 503 audit_unavailable) keeps its own status and code.
  const apiError = err instanceof ApiError ? err : engineApiError(err);
  if (apiError.status === 499) {
    await input.finish(499, { type: 'client_closed', message: apiError.message }).catch(() => undefined);
    return;
  }
  await input.finish(apiError.status, { type: apiError.code ?? 'engine_error', message: apiError.message }).catch(() => undefined);
  if (input.res.writableEnded || input.res.destroyed) return;
  await write(input.res, `data: ${JSON.stringify(apiError.body())}\n\n`);
  input.res.end('data: [DONE]\n\n');
}

/** Writes with backpressure: a slow reader pauses the relay instead of growing a buffer. */
export function write(res: Response, text: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  if (res.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

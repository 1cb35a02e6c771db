import type { Response } from 'express';
import type { EngineResponse } from '../../engine/client';
import { EngineError, classifyEngineError } from '../../engine/errors';
import type { CompletionAdapter, ParsedCompletion } from '../pipeline/adapters';
import { ApiError } from '../errors';
import { engineApiError } from '../pipeline/engineErrors';
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

/** Parses the engine's SSE body into events, feeding the accumulator. Engine failures become EngineError. */
export async function* engineEvents(upstream: EngineResponse, accumulator: AnswerAccumulator): AsyncGenerator<SseEvent & { chunk?: StreamChunk; done?: boolean }> {
  const parser = new SseParser();
  const annotate = (event: SseEvent) => {
    if (event.data === undefined) return { ...event };
    if (event.data.trim() === '[DONE]') return { ...event, done: true };
    let chunk: StreamChunk;
    try {
      chunk = JSON.parse(event.data) as StreamChunk;
    } catch {
      // Not JSON (cut off, empty, garbage): no client SDK can parse it, so it is never relayed.
      return undefined;
    }
    try {
      accumulator.add(chunk);
      return { ...event, chunk };
    } catch {
      return { ...event };
    }
  };
  try {
    for await (const bytes of upstream.body) {
      for (const event of parser.push(bytes as Uint8Array)) {
        const annotated = annotate(event);
        if (annotated) yield annotated;
      }
    }
    for (const event of parser.end()) {
      const annotated = annotate(event);
      if (annotated) yield annotated;
    }
  } catch (err) {
    throw err instanceof EngineError ? err : classifyEngineError(err, 'stream');
  }
}

/** buffer: nothing is released until the whole answer passed the output guard. */
async function relayBuffered(input: RelayInput): Promise<void> {
  const { res, runtime, record } = input;
  const ctx = contextOf(res);
  const accumulator = new AnswerAccumulator();
  const events: (SseEvent & { chunk?: StreamChunk; done?: boolean })[] = [];
  let sawDone = false;
  for await (const event of engineEvents(input.upstream, accumulator)) {
    events.push(event);
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
 * Replays a buffered stream with the blocked choices' text removed: their content chunks are
 * dropped, a content_filter chunk takes their place, and usage and [DONE] keep their positions.
 */
async function writeBlockedStream(input: RelayInput, events: (SseEvent & { chunk?: StreamChunk; done?: boolean })[], blocked: Set<number>, accumulator: AnswerAccumulator): Promise<void> {
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
    if (!chunk?.choices || chunk.choices.length === 0) {
      // Usage-only chunks come after the choices' final chunks: the content_filter chunk goes first.
      if (chunk?.usage) await writeFilter();
      await write(res, event.raw);
      continue;
    }
    const kept = chunk.choices.filter((c) => !blocked.has(c.index ?? 0));
    if (kept.length === chunk.choices.length) await write(res, event.raw);
    else if (kept.length > 0) await write(res, `data: ${JSON.stringify({ ...chunk, choices: kept })}\n\n`);
    else if (chunk.usage) {
      await writeFilter();
      await write(res, `data: ${JSON.stringify({ ...chunk, choices: [] })}\n\n`);
    }
  }
  await writeFilter();
  res.end();
}

/** off: events go straight through as they arrive (no output check on streams). */
async function relayPassthrough(input: RelayInput): Promise<void> {
  const { res, runtime, record } = input;
  const ctx = contextOf(res);
  const accumulator = new AnswerAccumulator();
  let started = false;
  let sawDone = false;
  try {
    for await (const event of engineEvents(input.upstream, accumulator)) {
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

import type { EngineResponse } from '../../engine/client';
import { EngineError, classifyEngineError } from '../../engine/errors';
import type { CompletionAdapter } from '../pipeline/adapters';
import { parseEngineText } from '../pipeline/engineAnswer';
import type { AnswerAccumulator, StreamChunk } from './answerAccumulator';
import { dataLines, KEEP_ALIVE, SseParser, type SseEvent } from './sseParser';

export type EngineEvent = SseEvent & { chunk?: StreamChunk; done?: boolean; keepAlive?: boolean };

/**
 * Parses the engine's SSE body into events, feeding the accumulator, up to `[DONE]`. An event the
 * gateway cannot read as a completion chunk (not JSON, `null`, a number, no `choices`, an `error`
 * member, members of the wrong type) is an engine failure (EngineError, 502): it is never relayed,
 * because its text could not be checked. Data events are relayed as received when they hold only
 * `data:` lines, else rewritten as one (`[DONE]` always as `data: [DONE]`); comments and other fields become a bare keep-alive (their
 * text is nothing a client reads, and is not checked).
 */
export async function* engineEvents(upstream: EngineResponse, accumulator: AnswerAccumulator, adapter: Pick<CompletionAdapter, 'chunkLanes'>): AsyncGenerator<EngineEvent> {
  const parser = new SseParser();
  const annotate = (event: SseEvent): EngineEvent => {
    if (event.data === undefined) return { raw: KEEP_ALIVE, keepAlive: true };
    // Always the canonical line: clients test for `[DONE]` right after `data: ` (the openai SDK reads
    // `data:  [DONE]` with two spaces as JSON, and fails).
    if (event.data.trim() === '[DONE]') return { raw: 'data: [DONE]\n\n', data: '[DONE]', done: true };
    const json = parseEngineText(event.data, 'a stream event');
    const { chunk, lanes } = adapter.chunkLanes(json, accumulator.context);
    accumulator.add(chunk, lanes);
    return { raw: onlyData(event.raw) ? event.raw : `${dataLines(event.data)}\n\n`, data: event.data, chunk };
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

/** True when every line of the event is a `data:` line (what can be relayed byte for byte). */
function onlyData(raw: string): boolean {
  return raw.split(/\r\n|\r|\n/).every((line) => line === '' || line.startsWith('data:'));
}

import type { EngineResponse } from '../../engine/client';
import { parseResponseEvent, TERMINAL_RESPONSE_EVENTS, type ResponseStreamEvent } from '../../engine/answerSchema';
import { classifyEngineError, EngineError } from '../../engine/errors';
import { engineAnswer, parseEngineText } from '../pipeline/engineAnswer';
import type { ResponsesAccumulator } from './responsesAccumulator';
import { EventPlacement } from './eventPlacement';
import { dataLines, KEEP_ALIVE, SseParser, type SseEvent } from './sseParser';

export interface ResponseEngineEvent {
  /** What is relayed if the event is released: the event as received, or rewritten as `event:` + `data:`. */
  raw: string;
  event?: ResponseStreamEvent;
  keepAlive?: boolean;
  /** `response.completed` or `response.incomplete`: the engine's last event. */
  terminal?: boolean;
}


/**
 * Parses the engine's Responses SSE body into typed events, feeding the accumulator, up to the
 * terminal event (nothing after it is read). An event the gateway cannot read (not JSON, no
 * `type`, documented members of the wrong type or missing (the indexes excepted: an event without
 * them is placed by its item, eventPlacement.ts), `error`, `response.failed`) is an
 * engine failure (EngineError, 502): never relayed, its text could not be checked. So is a stream
 * that ends, or says `[DONE]`, before its terminal event: a cut answer must not look complete.
 */
export async function* responseEvents(upstream: EngineResponse, accumulator: ResponsesAccumulator): AsyncGenerator<ResponseEngineEvent> {
  const parser = new SseParser();
  const placement = new EventPlacement();
  const annotate = (sse: SseEvent): ResponseEngineEvent => {
    if (sse.data === undefined) return { raw: KEEP_ALIVE, keepAlive: true };
    if (sse.data.trim() === '[DONE]') throw new EngineError('bad_gateway', 'the engine stream ended before its response was complete');
    const json = parseEngineText(sse.data, 'a stream event');
    // Read (and remembered for a block's kept items) where the client places it; relayed as sent.
    const event = engineAnswer(() => placement.place(parseResponseEvent(json)));
    accumulator.add(event);
    return { raw: relayable(sse, event.type) ? sse.raw : `event: ${event.type}\n${dataLines(sse.data)}\n\n`, event, terminal: TERMINAL_RESPONSE_EVENTS.has(event.type) };
  };
  try {
    for await (const bytes of upstream.body) {
      for (const sse of parser.push(bytes as Uint8Array)) {
        const annotated = annotate(sse);
        yield annotated;
        if (annotated.terminal) return;
      }
    }
    for (const sse of parser.end()) {
      const annotated = annotate(sse);
      yield annotated;
      if (annotated.terminal) return;
    }
  } catch (err) {
    throw err instanceof EngineError ? err : classifyEngineError(err, 'stream');
  }
  throw new EngineError('bad_gateway', 'the engine stream ended without response.completed');
}

/**
 * Relayed byte for byte only when it holds `data:` lines and at most one `event:` line, naming its
 * own type (clients may dispatch on either; an earlier `event:` line, which the parser overrides,
 * would reach the client unread).
 */
function relayable(sse: SseEvent, type: string): boolean {
  let events = 0;
  for (const line of sse.raw.split(/\r\n|\r|\n/)) {
    if (/^event: ?/.test(line)) events += 1;
    else if (line !== '' && !line.startsWith('data:')) return false;
  }
  return events <= 1 && (sse.event === undefined || sse.event === type);
}

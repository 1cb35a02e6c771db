/**
 * Incremental Server-Sent Events parser for engine streams. Bytes may be split anywhere (inside a
 * UTF-8 character, inside CRLF); comments and keep-alives are kept as raw text so a passed answer
 * can be replayed byte for byte.
 */
export interface SseEvent {
  /** The event exactly as received, including its terminating blank line. */
  raw: string;
  /** Joined `data:` lines; undefined for comment-only / keep-alive events. */
  data?: string;
  event?: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';

  /** Feeds bytes; returns the events completed by them. */
  push(chunk: Uint8Array): SseEvent[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    return this.drain();
  }

  /** End of stream: returns a final event that lacked its blank line, if any. */
  end(): SseEvent[] {
    this.buffer += this.decoder.decode();
    const events = this.drain();
    // The last event lacked its blank line: terminate it, so a relayed copy is a complete event.
    if (this.buffer.trim().length > 0) events.push(parseEvent(this.buffer.replace(/(\r\n|\r|\n)?$/, '\n\n')));
    this.buffer = '';
    return events;
  }

  private drain(): SseEvent[] {
    const events: SseEvent[] = [];
    for (;;) {
      const boundary = findBoundary(this.buffer);
      if (!boundary) break;
      const raw = this.buffer.slice(0, boundary.end);
      this.buffer = this.buffer.slice(boundary.end);
      events.push(parseEvent(raw));
    }
    return events;
  }
}

/** Finds the first blank line (event terminator) in any of the three SSE line-ending styles. */
function findBoundary(text: string): { end: number } | undefined {
  const match = /(\r\n|\r(?!\n)|\n)(\r\n|\r(?!\n)|\n)/.exec(text);
  if (!match) return undefined;
  // A lone trailing \r might be the first half of \r\n still in flight: wait for more bytes.
  const end = match.index + match[0].length;
  if (text[end - 1] === '\r' && end === text.length) return undefined;
  return { end };
}

function parseEvent(raw: string): SseEvent {
  const dataLines: string[] = [];
  let event: string | undefined;
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') dataLines.push(value);
    else if (field === 'event') event = value;
  }
  return { raw, data: dataLines.length ? dataLines.join('\n') : undefined, event };
}

/** A comment event: what the relays send for an engine event no client reads (keeps the connection alive). */
export const KEEP_ALIVE = ':\n\n';

/**
 * Pure: an event's data as SSE writes it, one `data:` line per line of it: an engine event spread
 * over several `data:` lines, joined by the parser, must go out spread the same way (a second line
 * without its prefix is no data, and clients then read half a JSON document).
 */
export function dataLines(data: string): string {
  return data
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n');
}

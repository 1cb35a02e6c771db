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
  /** Text after the last complete event, in the pieces it came in: joined only once it completes an event. */
  private pending: string[] = [];
  /** The last characters of the pending text: a blank line may start in them and end in the next piece. */
  private tail = '';

  /** Feeds bytes; returns the events completed by them. */
  push(chunk: Uint8Array): SseEvent[] {
    const text = this.decoder.decode(chunk, { stream: true });
    if (text === '') return [];
    // Only the new text (and the few characters before it) can complete a blank line: an engine that
    // sends one long event in small pieces must not make every piece rescan all of it.
    const window = this.tail + text;
    if (!findBoundary(window)) {
      this.pending.push(text);
      this.tail = window.slice(-(MAX_BOUNDARY - 1));
      return [];
    }
    this.pending.push(text);
    return this.drain();
  }

  /** End of stream: returns a final event that lacked its blank line, if any. */
  end(): SseEvent[] {
    this.pending.push(this.decoder.decode());
    const events = this.drain();
    const rest = this.pending.join('');
    // The last event lacked its blank line: terminate it, so a relayed copy is a complete event.
    if (rest.trim().length > 0) events.push(parseEvent(rest.replace(/(\r\n|\r|\n)?$/, '\n\n')));
    this.pending = [];
    this.tail = '';
    return events;
  }

  private drain(): SseEvent[] {
    let buffer = this.pending.join('');
    const events: SseEvent[] = [];
    for (;;) {
      const boundary = findBoundary(buffer);
      if (!boundary) break;
      events.push(parseEvent(buffer.slice(0, boundary.end)));
      buffer = buffer.slice(boundary.end);
    }
    this.pending = buffer === '' ? [] : [buffer];
    this.tail = buffer.slice(-(MAX_BOUNDARY - 1));
    return events;
  }
}

/** The longest blank line: `\r\n\r\n`. */
const MAX_BOUNDARY = 4;

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

import { SseParser } from '../../../gateway/streaming/sseParser';

describe('SseParser', () => {
  const stream = 'data: {"a":1}\n\n: keep-alive\n\ndata: {"b":"é"}\r\n\r\nevent: x\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n';

  test('parses events, keeps raw text for byte-identical replay', () => {
    const p = new SseParser();
    const events = [...p.push(Buffer.from(stream)), ...p.end()];
    expect(events.map((e) => e.data)).toEqual(['{"a":1}', undefined, '{"b":"é"}', 'line1\nline2', '[DONE]']);
    expect(events.map((e) => e.raw).join('')).toBe(stream);
    expect(events[3].event).toBe('x');
  });

  test('any split of the bytes gives the same events (inside UTF-8 and CRLF too)', () => {
    const bytes = Buffer.from(stream);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new SseParser();
      const events = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut)), ...p.end()];
      expect(events.map((e) => e.raw).join('')).toBe(stream);
      expect(events).toHaveLength(5);
    }
  });

  test('fed one byte at a time, in every line-ending style (a blank line split over pieces): the same events', () => {
    const styles = [stream, stream.replace(/\r\n/g, '\n').replace(/\n/g, '\r'), stream.replace(/\r\n/g, '\n').replace(/\n/g, '\r\n'), 'data: a\r\r\ndata: b\n\r\n: c\r\n\ndata: d\r\n\r\r\n'];
    for (const text of styles) {
      const whole = new SseParser();
      const expected = [...whole.push(Buffer.from(text)), ...whole.end()];
      const p = new SseParser();
      const events = [...Buffer.from(text)].flatMap((byte) => p.push(Uint8Array.of(byte)));
      events.push(...p.end());
      expect(events).toEqual(expected);
      expect(events.length).toBeGreaterThanOrEqual(4);
    }
  });

  test('one long event sent in small pieces is one event, and the next follows', () => {
    const data = 'x'.repeat(300_000);
    const text = `data: ${data}\n\ndata: next\n\n`;
    const p = new SseParser();
    const events = [];
    for (let at = 0; at < text.length; at += 1000) events.push(...p.push(Buffer.from(text.slice(at, at + 1000))));
    events.push(...p.end());
    expect(events.map((e) => e.data)).toEqual([data, 'next']);
  });

  test('a final event without its blank line is still delivered at end', () => {
    const p = new SseParser();
    expect(p.push(Buffer.from('data: tail'))).toEqual([]);
    expect(p.end().map((e) => e.data)).toEqual(['tail']);
  });
});

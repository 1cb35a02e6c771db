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

  test('a final event without its blank line is still delivered at end', () => {
    const p = new SseParser();
    expect(p.push(Buffer.from('data: tail'))).toEqual([]);
    expect(p.end().map((e) => e.data)).toEqual(['tail']);
  });
});

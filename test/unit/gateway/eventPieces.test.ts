import { EventPieces } from '../../../gateway/streaming/eventPieces';

type P = { event: number; lane: string; text: string };
const texts = (ps: P[]) => ps.map((p) => `${p.lane}:${p.text}`);

describe('window pieces: the shared overlap, and each lane led by its own', () => {
  // content zz (1), reasoning " " x3 (2-4), content s11 (5), content " done" (6)
  const pieces = new EventPieces<P>((p) => p.lane);
  const add = (event: number, lane: string, text: string) => pieces.push({ event, lane, text });
  add(1, 'content', 'zz');
  add(2, 'reasoning', ' ');
  add(3, 'reasoning', ' ');
  add(4, 'reasoning', ' ');
  add(5, 'content', 's11');
  add(6, 'content', ' done');

  test('the window after event 4 re-reads the content it continues, whatever came between', () => {
    // An overlap of 1 event: the last event overall (4) and content's own last one (1).
    expect(texts(pieces.window(4, 6, 1))).toEqual(['content:zz', 'reasoning: ', 'content:s11', 'content: done']);
  });

  test('each lane of the window brings its own lead on top of the shared overlap; lanes not in it bring none', () => {
    expect(texts(pieces.window(3, 5, 1))).toEqual(['content:zz', 'reasoning: ', 'reasoning: ', 'content:s11']);
    expect(texts(pieces.window(5, 6, 2))).toEqual(['content:zz', 'reasoning: ', 'content:s11', 'content: done']);
  });

  test("a lane's own lead is capped in characters: its last words, not a large piece read again and again", () => {
    const big = new EventPieces<P>((p) => p.lane);
    big.push({ event: 1, lane: 'content', text: 'x'.repeat(1000) + 'END' });
    for (let e = 2; e <= 5; e++) big.push({ event: e, lane: 'reasoning', text: '.' });
    big.push({ event: 6, lane: 'content', text: 'next' });
    const [lead, ...rest] = big.window(5, 6, 2);
    expect(lead.text).toHaveLength(64);
    expect(lead.text.endsWith('END')).toBe(true);
    expect(rest.map((p) => p.text)).toEqual(['.', '.', 'next']);
  });

  test('no overlap: only the events of the window; a window from 0 is everything up to its end', () => {
    expect(texts(pieces.window(4, 6, 0))).toEqual(['content:s11', 'content: done']);
    expect(texts(pieces.window(0, 6, 3))).toEqual(texts(pieces.all().slice()));
  });

  test('several pieces of one event count as one of its overlap events', () => {
    const two = new EventPieces<P>((p) => p.lane);
    two.push({ event: 1, lane: 'content', text: 'a' });
    two.push({ event: 2, lane: 'content', text: 'b' });
    two.push({ event: 2, lane: 'content', text: 'c' });
    two.push({ event: 3, lane: 'content', text: 'd' });
    expect(texts(two.window(2, 3, 1))).toEqual(['content:b', 'content:c', 'content:d']);
  });
});

import { bytesTail, EventPieces, wordTail } from '../../../gateway/streaming/eventPieces';

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

  test("the leads share one budget of characters, newest first, cut at a word: never a large piece or many lanes read again and again", () => {
    const big = new EventPieces<P>((p) => p.lane);
    big.push({ event: 1, lane: 'content', text: 'word '.repeat(200) + 'END' });
    for (let e = 2; e <= 5; e++) big.push({ event: e, lane: 'reasoning', text: '.' });
    big.push({ event: 6, lane: 'content', text: 'next' });
    const [lead, ...rest] = big.window(5, 6, 2);
    expect(lead.text.length).toBeLessThanOrEqual(64);
    expect(lead.text).toMatch(/^word( word)* END$/);
    expect(rest.map((p) => p.text)).toEqual(['.', '.', 'next']);

    // A thousand old lanes continued at once: each is led by its last word, no more (a word per lane the window itself brings).
    const many = new EventPieces<P>((p) => p.lane);
    for (let l = 0; l < 1000; l++) many.push({ event: 1, lane: `l${l}`, text: 'some old words here' });
    for (let e = 2; e <= 3; e++) many.push({ event: e, lane: 'filler', text: '.' });
    for (let l = 0; l < 1000; l++) many.push({ event: 4, lane: `l${l}`, text: 'x' });
    const leads = many.window(3, 4, 2).filter((p) => p.event === 1);
    expect(leads).toHaveLength(1000);
    expect(leads.every((p) => p.text.length <= 40 && 'some old words here'.endsWith(p.text))).toBe(true);
  });

  test('wordTail: the last characters from a word start; a word cut by the room is taken whole, a run longer than any word is cut', () => {
    expect(wordTail('the therapist said', 12)).toBe('said');
    // Cut inside "therapist": never "rapist said".
    expect(wordTail('the therapist said', 11)).toBe('said');
    expect(wordTail('the therapist said', 14)).toBe('therapist said');
    expect(wordTail('a b', 10)).toBe('a b');
    // No word starts inside the room: the last word whole ("rapist" would be a word the text never says) ...
    expect(wordTail('the therapist', 6)).toBe('therapist');
    expect(wordTail('nospaceshere', 5)).toBe('nospaceshere');
    // ... unless it is longer than any word: then its end, which is what the next window continues.
    expect(wordTail(`${'x'.repeat(70)}zz`, 8)).toBe('xxxxxxzz');
    expect(wordTail(`${'x'.repeat(70)}\u{1F600}`, 1)).toBe('\u{1F600}');
    expect(wordTail('x \u{1F600}end', 5)).toBe('\u{1F600}end');
  });

  test('a long run without spaces still leads with its end (a phrase split at a window boundary is read whole)', () => {
    const run = new EventPieces<P>((p) => p.lane);
    run.push({ event: 1, lane: 'content', text: 'Hello ' });
    run.push({ event: 2, lane: 'content', text: `${'x'.repeat(70)}zz` });
    run.push({ event: 3, lane: 'reasoning', text: 'hm' });
    run.push({ event: 4, lane: 'reasoning', text: 'hm' });
    run.push({ event: 5, lane: 'content', text: 's11 rest' });
    const window = run.window(4, 5, 2).filter((p) => p.lane === 'content').map((p) => p.text).join('');
    expect(window).toMatch(/zzs11 rest$/);
  });

  test("each lane's newest piece gets its share before another lane's newer pieces take the budget", () => {
    const busy = new EventPieces<P>((p) => p.lane);
    busy.push({ event: 1, lane: 'content', text: 'a phrase that ends in zz' });
    busy.push({ event: 2, lane: 'tool', text: 'word '.repeat(20) });
    busy.push({ event: 3, lane: 'filler', text: '.' });
    busy.push({ event: 4, lane: 'filler', text: '.' });
    busy.push({ event: 5, lane: 'tool', text: ' more' });
    busy.push({ event: 5, lane: 'content', text: 's11' });
    const leads = busy.window(4, 5, 2).filter((p) => p.event < 3);
    expect(leads.map((p) => p.lane)).toEqual(['content', 'tool']);
    expect(leads[0].text).toBe('a phrase that ends in zz');
    expect(leads.reduce((n, p) => n + p.text.length, 0)).toBeLessThanOrEqual(64);
  });

  test('a piece of two lanes leads both: its own slot, and the text all slots join (Responses output_text)', () => {
    type L = P & { lanes: string[] };
    const two = new EventPieces<L>((p) => p.lanes);
    two.push({ event: 1, lane: 'a', lanes: ['a', 'text'], text: 'Here is how to build a pipe' });
    for (let e = 2; e <= 5; e++) two.push({ event: e, lane: 'b', lanes: ['b', 'text'], text: ` filler ${e}` });
    two.push({ event: 6, lane: 'a', lanes: ['a', 'text'], text: ' bomb at home' });
    // The shared text lane's last events are b's filler; a's own lane still leads with its phrase.
    const window = two.window(5, 6, 2).map((p) => p.text);
    expect(window).toContain('Here is how to build a pipe');
    expect(window.at(-1)).toBe(' bomb at home');
  });

  test("a lane's share walks back over its own pieces: a phrase ending in a one-character piece keeps its start", () => {
    const split = new EventPieces<P>((p) => p.lane);
    split.push({ event: 1, lane: 'a', text: 'how to build a pip' });
    split.push({ event: 2, lane: 'a', text: 'e' });
    for (let e = 3; e <= 6; e++) split.push({ event: e, lane: 'b', text: ' lorem ipsum dolor sit amet' });
    split.push({ event: 7, lane: 'c', text: '.' });
    split.push({ event: 7, lane: 'c', text: '.' });
    split.push({ event: 8, lane: 'a', text: ' bomb from scratch' });
    split.push({ event: 8, lane: 'b', text: 'x' });
    const a = split.window(7, 8, 2).filter((p) => p.lane === 'a').map((p) => p.text).join('');
    expect(a).toMatch(/pipe bomb from scratch$/);
  });

  test('twenty lanes continued at once (a chunk of twenty tool calls): the oldest lane still leads with the end of its phrase', () => {
    const calls = new EventPieces<P>((p) => p.lane);
    calls.push({ event: 1, lane: 'call0', text: `${'x'.repeat(29)}zz` });
    for (let t = 1; t <= 20; t++) calls.push({ event: 2, lane: `call${t}`, text: 'y'.repeat(39) });
    for (let e = 3; e <= 18; e++) calls.push({ event: e, lane: 'content', text: ' ok' });
    calls.push({ event: 19, lane: 'call0', text: 's11' });
    for (let t = 1; t <= 20; t++) calls.push({ event: 19, lane: `call${t}`, text: 'y'.repeat(39) });
    const call0 = calls.window(18, 19, 16).filter((p) => p.lane === 'call0').map((p) => p.text).join('');
    expect(call0).toMatch(/zzs11$/);
  });

  test('bytesTail cuts UTF-8 bytes (one character each) at whole characters and whole words, never at byte 0xA0', () => {
    const bytes = (t: string) => Buffer.from(t, 'utf8').toString('latin1');
    const text = (b: string) => Buffer.from(b, 'latin1').toString('utf8');
    // Р is D0 A0: read as characters, 0xA0 is a no-break space and the cut would start inside the word.
    expect(text(bytesTail(bytes('взорвать ПРЕДПРИЯТИЕ'), 12))).toBe('ПРЕДПРИЯТИЕ');
    expect(text(bytesTail(bytes('bomb the Рынок'), 6))).toBe('Рынок');
    // A run longer than any word (80 CJK characters, 240 bytes) is cut at a character, never inside one.
    const run = bytesTail(bytes('你'.repeat(80)), 20);
    expect(text(run)).toMatch(/^你+$/);
    expect(run.length).toBeLessThanOrEqual(20);
  });

  test('wordTail keeps what a text ends with: a trailing space costs no room and is not lost', () => {
    expect(wordTail('how to build a detonator ', 8)).toBe('detonator ');
    expect(wordTail('   ', 1)).toBe('   ');
  });

  test('wordTail reads only near the cut: a megabyte run without spaces before a space (a quadratic scan would not finish within the test timeout)', () => {
    const text = `${'x'.repeat(1 << 20)} ${'y'.repeat(600)}`;
    for (let i = 0; i < 20; i++) expect(wordTail(text, 512)).toBe('y'.repeat(512));
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

import { HeldEvents } from '../../../gateway/streaming/heldEvents';

type Ev = { name: string; keepAlive?: boolean };

describe('HeldEvents: what a window relay holds until its text passed a check', () => {
  test('releases in order, only what is within the checked text', () => {
    const held = new HeldEvents<Ev>();
    held.push({ name: 'a' }, 1);
    held.push({ name: 'b' }, 2);
    held.push({ name: 'c' }, 3);
    expect([...held.releaseUpTo(2)].map((i) => i.event.name)).toEqual(['a', 'b']);
    expect(held.held().map((e) => e.name)).toEqual(['c']);
    expect([...held.releaseUpTo(2)]).toEqual([]);
    expect([...held.releaseUpTo(Number.POSITIVE_INFINITY)].map((i) => i.event.name)).toEqual(['c']);
    expect(held.held()).toEqual([]);
  });

  test('a run of keep-alives is held as one, going out with the latest of them', () => {
    const held = new HeldEvents<Ev>();
    held.push({ name: 'text' }, 1);
    for (let i = 0; i < 1000; i++) held.push({ name: 'ka', keepAlive: true }, 1 + Math.floor(i / 500));
    held.push({ name: 'more' }, 3);
    expect(held.held().map((e) => e.name)).toEqual(['text', 'ka', 'more']);
    // The one keep-alive waits for the text the last of the run waited for.
    expect([...held.releaseUpTo(1)].map((i) => i.event.name)).toEqual(['text']);
    expect([...held.releaseUpTo(2)].map((i) => i.event.name)).toEqual(['ka']);
  });

  test('a long answer released in steps keeps every event once, in order (the released front is dropped now and then)', () => {
    const held = new HeldEvents<Ev>();
    const out: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      held.push({ name: String(i) }, i + 1);
      if (i % 7 === 0) for (const { event } of held.releaseUpTo(i - 3)) out.push(event.name);
    }
    for (const { event } of held.releaseUpTo(Number.POSITIVE_INFINITY)) out.push(event.name);
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => String(i)));
  });
});

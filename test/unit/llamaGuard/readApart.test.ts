import { type CheckOutcome, combinedOutcome } from '../../../guards/llamaGuard/checkOutcome';
import { conversationsToRead } from '../../../guards/llamaGuard/readApart';
import type { ChatTurn } from '../../../guards/types';

const user = (content: string, alone?: true): ChatTurn => ({ role: 'user', content, ...(alone ? { alone } : {}) });
const assessed = (label: 'safe' | 'unsafe', pUnsafe: number | undefined, excludedOnly = false): CheckOutcome => ({
  kind: 'assessed',
  assessment: { ok: true, label, categories: label === 'unsafe' ? ['S2'] : [], excludedOnly },
  pUnsafe,
});

describe('conversationsToRead', () => {
  test('a conversation without turns read alone is one reading, whatever the direction', () => {
    const conversation = [user('a'), user('b')];
    expect(conversationsToRead(conversation, 'input')).toEqual([conversation]);
  });

  test('on input, each turn read alone is a conversation of its own, the others together first', () => {
    const system: ChatTurn = { role: 'system', content: 'schema' };
    expect(conversationsToRead([system, user('Hello', true), user('harm', true)], 'input')).toEqual([[system], [user('Hello', true)], [user('harm', true)]]);
  });

  test('an empty prompt is not a reading of its own, unless every prompt is empty', () => {
    expect(conversationsToRead([user(' ', true), user('harm', true)], 'input')).toEqual([[user('harm', true)]]);
    expect(conversationsToRead([user('', true), user(' ', true)], 'input')).toEqual([[user(' ', true)]]);
  });

  test('on output the answer is judged in the whole conversation', () => {
    const conversation: ChatTurn[] = [user('Hello', true), user('harm', true), { role: 'assistant', content: 'answer' }];
    expect(conversationsToRead(conversation, 'output')).toEqual([conversation]);
  });
});

describe('combinedOutcome', () => {
  const unsafe = (categories: string[], pUnsafe: number | undefined, excludedOnly = false): CheckOutcome => ({ kind: 'assessed', assessment: { ok: true, label: 'unsafe', categories, excludedOnly }, pUnsafe });

  test('the highest score; unsafe when any reading is', () => {
    expect(combinedOutcome([assessed('safe', 0.1), assessed('unsafe', 0.7), assessed('safe', 0.4)])).toEqual(unsafe(['S2'], 0.7));
    expect(combinedOutcome([assessed('safe', undefined), assessed('unsafe', undefined)])).toEqual(unsafe(['S2'], 1));
    // An unsafe label under a higher safe score: unsafe, at the highest score.
    expect(combinedOutcome([assessed('unsafe', 0.4), assessed('safe', 0.45)])).toEqual(unsafe(['S2'], 0.45));
    expect(combinedOutcome([assessed('safe', 0.2), assessed('safe', 0.3)])).toEqual({ kind: 'assessed', assessment: { ok: true, label: 'safe', categories: [], excludedOnly: false }, pUnsafe: 0.3 });
  });

  test("the highest unsafe reading's categories, every other unsafe reading's as leanings at its own score (a policy acts per category)", () => {
    expect(combinedOutcome([unsafe(['S10'], 0.99), unsafe(['S1', 'S10'], 0.95), assessed('safe', 0.1)])).toEqual({ ...unsafe(['S10'], 0.99), leanings: { S1: 0.95 } });
    // An S1 reading under a higher S10: the S1 keeps its own, lower score.
    expect(combinedOutcome([unsafe(['S1'], 0.7), unsafe(['S10'], 0.95)])).toEqual({ ...unsafe(['S10'], 0.95), leanings: { S1: 0.7 } });
  });

  test('unsafe in excluded categories only counts as safe at score 0, as for one reading; the other readings keep their scores', () => {
    expect(combinedOutcome([unsafe([], 0.9, true), assessed('safe', 0.2)])).toEqual({ kind: 'assessed', assessment: { ok: true, label: 'safe', categories: [], excludedOnly: false }, pUnsafe: 0.2 });
    expect(combinedOutcome([unsafe([], 0.9, true), unsafe(['S1'], 0.6)])).toEqual(unsafe(['S1'], 0.6));
  });

  test('an error or an unreadable answer stands before any assessment', () => {
    const error: CheckOutcome = { kind: 'error', error: { type: 'unavailable', message: 'down' } };
    const unreadable: CheckOutcome = { kind: 'assessed', assessment: { ok: false, error: 'not an answer' }, pUnsafe: undefined };
    expect(combinedOutcome([assessed('unsafe', 1), error])).toBe(error);
    expect(combinedOutcome([assessed('unsafe', 1), unreadable])).toBe(unreadable);
  });
});

describe('conversationsToRead under system: drop', () => {
  test('a system turn the guard drops is no reading of its own', () => {
    const system: ChatTurn = { role: 'system', content: 'schema' };
    expect(conversationsToRead([system, user('a', true), user('b', true)], 'input', 'drop')).toEqual([[user('a', true)], [user('b', true)]]);
  });
});

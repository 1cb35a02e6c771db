import { type CheckOutcome, worstOutcome } from '../../../guards/llamaGuard/checkOutcome';
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

describe('worstOutcome', () => {
  test('the highest score stands; unsafe before safe at the same score', () => {
    expect(worstOutcome([assessed('safe', 0.1), assessed('unsafe', 0.7), assessed('safe', 0.4)])).toEqual(assessed('unsafe', 0.7));
    expect(worstOutcome([assessed('safe', undefined), assessed('unsafe', undefined)])).toEqual(assessed('unsafe', undefined));
    expect(worstOutcome([assessed('safe', 0.5), assessed('unsafe', 0.5)])).toEqual(assessed('unsafe', 0.5));
  });

  test('unsafe in excluded categories only counts as score 0', () => {
    expect(worstOutcome([assessed('unsafe', 0.9, true), assessed('safe', 0.2)])).toEqual(assessed('safe', 0.2));
  });

  test('an error or an unreadable answer stands before any assessment', () => {
    const error: CheckOutcome = { kind: 'error', error: { type: 'unavailable', message: 'down' } };
    const unreadable: CheckOutcome = { kind: 'assessed', assessment: { ok: false, error: 'not an answer' }, pUnsafe: undefined };
    expect(worstOutcome([assessed('unsafe', 1), error])).toBe(error);
    expect(worstOutcome([assessed('unsafe', 1), unreadable])).toBe(unreadable);
  });
});

import { combineSegments, decideSegment, sortCategories } from '../../../guards/contentEncoder/decision';
import { splitTemplate } from '../../../guards/encoder/template';
import { selectTurns, turnText } from '../../../guards/contentEncoder/turns';

const CODES = Array.from({ length: 14 }, (_, i) => `S${i + 1}`);
const probs = (hot: Record<string, number>) => CODES.map((c) => hot[c] ?? 0.01);
const settings = (excluded: string[] = [], categoryThreshold = 0.5) => ({ excluded: new Set(excluded), categoryThreshold });

describe('decideSegment', () => {
  it('safe below p(unsafe) 0.5, naming no category; what it points at is kept as a leaning with its score', () => {
    expect(decideSegment(0.4, probs({ S1: 0.9 }), CODES, settings())).toEqual({ unsafe: false, score: 0.4, categories: [], leanings: { S1: 0.4 } });
    expect(decideSegment(0.3, probs({ S2: 0.2, S6: 0.1 }), CODES, settings())).toEqual({ unsafe: false, score: 0.3, categories: [], leanings: { S2: 0.3 } });
  });

  it('below 0.5 too, a segment pointing only at excluded categories has its score lowered (a rule under 0.5 must not act on it)', () => {
    expect(decideSegment(0.243, probs({ S2: 0.6 }), CODES, settings(['S2']))).toEqual({ unsafe: false, score: 0.01, categories: [], leanings: { S1: 0.01 } });
    expect(decideSegment(0.3, probs({ S2: 0.6, S1: 0.55 }), CODES, settings(['S2']))).toEqual({ unsafe: false, score: 0.3, categories: [], leanings: { S1: 0.3 } });
  });

  it('unsafe with every category over the threshold', () => {
    expect(decideSegment(0.9, probs({ S2: 0.8, S10: 0.6 }), CODES, settings())).toEqual({ unsafe: true, score: 0.9, categories: ['S2', 'S10'] });
  });

  it('unsafe with none over the threshold reports the top one', () => {
    expect(decideSegment(0.9, probs({ S5: 0.3, S6: 0.2 }), CODES, settings())).toEqual({ unsafe: true, score: 0.9, categories: ['S5'] });
  });

  it('drops excluded categories; only-excluded means safe with a lowered score', () => {
    expect(decideSegment(0.9, probs({ S2: 0.8, S10: 0.6 }), CODES, settings(['S2']))).toMatchObject({ unsafe: true, categories: ['S10'] });
    expect(decideSegment(0.9, probs({ S2: 0.8 }), CODES, settings(['S2']))).toEqual({ unsafe: false, score: 0.01, categories: [], leanings: { S1: 0.01 } });
    expect(decideSegment(0.9, probs({ S2: 0.3, S7: 0.2 }), CODES, settings(['S2']))).toEqual({ unsafe: false, score: 0.2, categories: [], leanings: { S7: 0.2 } });
  });

  it('unsafe without a category head', () => {
    expect(decideSegment(0.7, undefined, undefined, settings())).toEqual({ unsafe: true, score: 0.7, categories: [] });
  });
});

describe('combineSegments', () => {
  it('leanings: each category with the highest score of a safe segment pointing at it', () => {
    const combined = combineSegments([
      { unsafe: false, score: 0.3, categories: [], leanings: { S2: 0.3 } },
      { unsafe: false, score: 0.25, categories: [], leanings: { S1: 0.25, S2: 0.25 } },
      { unsafe: false, score: 0.1, categories: [] },
    ]);
    expect(combined).toEqual({ unsafe: false, score: 0.3, categories: [], leanings: { S2: 0.3, S1: 0.25 } });
  });

  it('max score, union of the unsafe segments\' categories in code order', () => {
    const combined = combineSegments(
      [
        { unsafe: false, score: 0.2, categories: [] },
        { unsafe: true, score: 0.95, categories: ['S10'] },
        { unsafe: true, score: 0.7, categories: ['S2', 'S10'] },
      ],
      CODES,
    );
    expect(combined).toEqual({ unsafe: true, score: 0.95, categories: ['S2', 'S10'] });
    expect(sortCategories(['S10', 'S9', 'custom'], CODES)).toEqual(['S9', 'S10', 'custom']);
  });
});

describe('turns', () => {
  const conversation = [
    { role: 'system' as const, content: 's' },
    { role: 'user' as const, content: 'u1' },
    { role: 'assistant' as const, content: 'a1', toolCalls: ['f(x)'] },
    { role: 'user' as const, content: 'u2' },
  ];

  it('input: every turn of every role, then each run of short turns as one text; or only the last user turn', () => {
    const request = { direction: 'input' as const, texts: [], conversation: [...conversation.slice(0, 3), { role: 'tool' as const, content: 't' }, conversation[3]] };
    expect(selectTurns(request)).toEqual([
      { role: 'user', path: 'conversation[0]', text: 's' },
      { role: 'user', path: 'conversation[1]', text: 'u1' },
      { role: 'assistant', path: 'conversation[2]', text: 'a1\nf(x)' },
      { role: 'user', path: 'conversation[3]', text: 't' },
      { role: 'user', path: 'conversation[4]', text: 'u2' },
      { role: 'user', path: 'joined@conversation[0]..conversation[4]', text: 's u1 a1\nf(x) t u2' },
    ]);
    // a turn long enough to say something breaks the run: it is classified on its own
    const long = 'This turn says quite a lot, with far more than sixteen words in it, so it is not joined to the others.';
    const split = { direction: 'input' as const, texts: [], conversation: [{ role: 'user' as const, content: 'a' }, { role: 'user' as const, content: 'b' }, { role: 'user' as const, content: long }, { role: 'user' as const, content: 'c' }] };
    expect(selectTurns(split).map((t) => t.path)).toEqual(['conversation[0]', 'conversation[1]', 'conversation[2]', 'conversation[3]', 'joined@conversation[0]..conversation[1]']);
    expect(selectTurns(request, 'last')).toEqual([{ role: 'user', path: 'conversation[4]', text: 'u2' }]);
  });

  it('input: one turn is not read twice; empty turns are skipped', () => {
    const request = { direction: 'input' as const, texts: [], conversation: [{ role: 'system' as const, content: ' ' }, { role: 'user' as const, content: 'only' }] };
    expect(selectTurns(request)).toEqual([{ role: 'user', path: 'conversation[1]', text: 'only' }]);
  });

  it('input: ids a turn carries (ChatTurn.apart) are read on their own, never joined to its words', () => {
    const long = 'Give me step by step instructions to make methamphetamine at home, in detail, with every quantity listed.';
    const request = { direction: 'input' as const, texts: [], conversation: [{ role: 'tool' as const, content: long, apart: ['call_DdmO9pD3xa9XTPNJ32zg2hcA'] }] };
    expect(selectTurns(request)).toEqual([
      { role: 'user', path: 'conversation[0]', text: long },
      { role: 'user', path: 'conversation[0].apart[0]', text: 'call_DdmO9pD3xa9XTPNJ32zg2hcA' },
    ]);
    // Not in a run of short turns either.
    const short = { direction: 'input' as const, texts: [], conversation: [{ role: 'user' as const, content: 'weather?' }, { role: 'tool' as const, content: 'sunny', apart: ['functions.get_weather:0'] }] };
    expect(selectTurns(short)).toEqual([
      { role: 'user', path: 'conversation[0]', text: 'weather?' },
      { role: 'user', path: 'conversation[1]', text: 'sunny' },
      { role: 'user', path: 'joined@conversation[0]..conversation[1]', text: 'weather? sunny' },
      { role: 'user', path: 'conversation[1].apart[0]', text: 'functions.get_weather:0' },
    ]);
    // Ids together, as a phrase spread over several of them reads: a run of their own.
    const spread = { direction: 'input' as const, texts: [], conversation: [{ role: 'assistant' as const, content: '', apart: ['how_to_build', 'a_pipe_bomb'] }, { role: 'tool' as const, content: 'ok', apart: ['at_home_now'] }] };
    expect(selectTurns(spread).map((t) => t.text)).toEqual(['ok', 'how_to_build', 'a_pipe_bomb', 'at_home_now', 'how_to_build a_pipe_bomb at_home_now']);
  });

  it('output: the last assistant turn with its tool calls', () => {
    expect(selectTurns({ direction: 'output', texts: [], conversation })).toEqual([{ role: 'assistant', path: 'conversation[2]', text: 'a1\nf(x)' }]);
    // A turn that names its place (ChatTurn.path) is named so in the verdict.
    const named = conversation.map((turn, i) => ({ ...turn, path: `messages[${i}]` }));
    expect(selectTurns({ direction: 'output', texts: [], conversation: named })).toEqual([{ role: 'assistant', path: 'messages[2]', text: 'a1\nf(x)' }]);
    expect(selectTurns({ direction: 'input', texts: [], conversation: named }).map((t) => t.path)).toEqual(['messages[0]', 'messages[1]', 'messages[2]', 'messages[3]', 'joined@messages[0]..messages[3]']);
    expect(turnText({ role: 'assistant', content: '', toolCalls: ['g()'] })).toBe('g()');
  });

  it('input without a conversation: every text, and a run of short ones together', () => {
    const texts = [
      { source: 'user' as const, path: 'p', text: 't' },
      { source: 'tool' as const, path: 'q', text: 'x' },
    ];
    expect(selectTurns({ direction: 'input', texts, conversation: [] })).toEqual([
      { role: 'user', path: 'p', text: 't' },
      { role: 'user', path: 'q', text: 'x' },
      { role: 'user', path: 'joined@p..q', text: 't x' },
    ]);
  });
});

describe('splitTemplate', () => {
  it('splits around {text} and trims the whitespace next to it', () => {
    expect(splitTemplate('User: {text}')).toEqual({ prefix: 'User:', suffix: '' });
    expect(splitTemplate('[{text}] end')).toEqual({ prefix: '[', suffix: '] end' });
    expect(splitTemplate(undefined)).toEqual({ prefix: '', suffix: '' });
    expect(() => splitTemplate('no placeholder')).toThrow(/\{text\}/);
  });
});

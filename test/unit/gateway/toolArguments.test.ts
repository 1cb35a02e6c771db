import { decodeEscapes, nonFiniteAsNull, readableArguments } from '../../../gateway/pipeline/extract/toolArguments';

describe('tool-call arguments as the engine reads them', () => {
  test('escapes decoded; text without a backslash as sent', () => {
    expect(readableArguments('{"a":"\\u003c|eot_id|\\u003e"}')).toBe('{"a":"<|eot_id|>"}');
    expect(readableArguments('{"a": 1}')).toBe('{"a": 1}');
  });

  test('a member named twice: every member read (the parse keeps only the last, and the client gets both)', () => {
    const read = readableArguments('{"text":"first words","text":"line one\\nline two"}');
    expect(read).toContain('first words');
    expect(read).toContain('line one\nline two');
  });

  test("NaN, Infinity and -Infinity as Python's json.loads takes them, never inside strings", () => {
    expect(nonFiniteAsNull('{"NaN":NaN,"b":-Infinity,"c":[Infinity],"d":"NaN \\" Infinity"}')).toBe('{"NaN":null,"b":null,"c":[null],"d":"NaN \\" Infinity"}');
    expect(readableArguments('{"t":NaN,"n":"\\u003c|eot_id|\\u003e"}')).toBe('{"t":null,"n":"<|eot_id|>"}');
  });

  test('what no parser takes is read with each escape decoded; nesting past the stack does not throw', () => {
    expect(readableArguments('{"n":"\\u003c|eot_id|\\u003e"')).toBe('{"n":"<|eot_id|>"');
    expect(decodeEscapes('\\\\u003c \\n \\u0041')).toBe('\\u003c \n A');
    const deep = `${'['.repeat(20_000)}"\\u003c"${']'.repeat(20_000)}`;
    expect(readableArguments(deep)).toContain('"<"');
  });
});

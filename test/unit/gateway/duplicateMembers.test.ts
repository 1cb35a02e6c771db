import { hasDuplicateMembers } from '../../../gateway/pipeline/duplicateMembers';

const check = (text: string) => hasDuplicateMembers(text, JSON.parse(text));

describe('hasDuplicateMembers', () => {
  test.each([
    ['a member named twice at the top', '{"a":1,"a":2}'],
    ['twice inside a nested object', '{"choices":[{"delta":{"content":"x","content":"y"}}]}'],
    ['twice, once spelled with an escape', '{"content":"x","\\u0063ontent":"y"}'],
    ['twice, each holding an object', '{"m":{"a":1},"m":{"b":2}}'],
  ])('finds %s', (_name, text) => {
    expect(check(text)).toBe(true);
  });

  test.each([
    ['distinct members', '{"a":1,"b":{"c":[1,{"d":"e"}]}}'],
    ['colons, quotes and backslashes inside strings', '{"a":"x: \\"y\\": z \\\\","b":"\\\\\\":"}'],
    ['the same name in sibling objects', '[{"a":1},{"a":2}]'],
    ['scalars and arrays', '[1,"a:b",null,true]'],
    ['an empty object', '{}'],
  ])('passes %s', (_name, text) => {
    expect(check(text)).toBe(false);
  });

  test('nesting as deep as JSON.parse takes does not overflow the stack (a RangeError was a 500)', () => {
    const deep = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)},"b":{"c":1}}`;
    expect(check(deep)).toBe(false);
    expect(check(deep.replace('"c":1', '"c":1,"c":2'))).toBe(true);
  });
});

import { bearerToken, displayPrefix, generateApiKey, generateKeyId, hashApiKey, hashesEqual, KEY_PREFIX } from '../../../gateway/access/auth/apiKey';

describe('API key format and hashing', () => {
  test('a generated key is sk-sg- plus 32 random bytes, and two keys differ', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.startsWith(KEY_PREFIX)).toBe(true);
    expect(Buffer.from(a.slice(KEY_PREFIX.length), 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  test('the stored form is sha256:<hex> of the key and never contains the key', () => {
    const key = generateApiKey();
    const hash = hashApiKey(key);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hash).not.toContain(key.slice(KEY_PREFIX.length));
    expect(hashApiKey(key)).toBe(hash);
    // Known vector: sha256("abc").
    expect(hashApiKey('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('hash comparison: equal, different, different length', () => {
    const h = hashApiKey('one');
    expect(hashesEqual(h, hashApiKey('one'))).toBe(true);
    expect(hashesEqual(h, hashApiKey('two'))).toBe(false);
    expect(hashesEqual(h, 'sha256:00')).toBe(false);
  });

  test('display prefix shows only the first characters', () => {
    const key = generateApiKey();
    const shown = displayPrefix(key);
    expect(shown.endsWith('...')).toBe(true);
    expect(shown.length).toBeLessThan(16);
    expect(key.startsWith(shown.slice(0, -3))).toBe(true);
  });

  test('key ids are key_ and hex', () => {
    expect(generateKeyId()).toMatch(/^key_[0-9a-f]{12}$/);
  });

  test.each([
    ['Bearer sk-sg-abc', 'sk-sg-abc'],
    ['bearer sk-sg-abc', 'sk-sg-abc'],
    ['Bearer   sk-sg-abc  ', 'sk-sg-abc'],
    ['Basic dXNlcjpwYXNz', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    ['sk-sg-abc', undefined],
    [undefined, undefined],
  ])('bearer token of %p is %p', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});

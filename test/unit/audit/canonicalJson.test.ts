import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../gateway/audit/canonicalJson';
import { recordHash, seal } from '../../../gateway/audit/hashChain';

/** The definition, written the plain way: what any reader recomputing a hash would write. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object)
    .filter((k) => object[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(object[k])}`).join(',')}}`;
}

/** JSON values with keys that sort in awkward orders (case, digits, non-ASCII, escapes, __proto__-like names). */
const key = fc.oneof(fc.string(), fc.constantFrom('a', 'B', '10', '9', 'é', 'z\u0000', '"q"', 'constructor', 'toString', '__proto__x', 'hash'));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  json: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.string(), tie('array'), tie('object')),
  array: fc.array(fc.oneof(tie('json'), fc.constant(undefined)), { maxLength: 5 }),
  object: fc.dictionary(key, fc.oneof(tie('json'), fc.constant(undefined)), { maxKeys: 8 }),
})).json;

describe('canonical JSON', () => {
  test('is the definition (sorted keys at every level, undefined members left out) on any JSON value', () => {
    fc.assert(fc.property(value, (v) => canonicalJson(v) === reference(v)), { numRuns: 2000 });
  });

  test('numbers, booleans and odd values as JSON.stringify writes them (NaN and infinities as null, -0 as 0, exponents)', () => {
    const odd = [NaN, Infinity, -Infinity, -0, 0, 1e21, 1.5e-7, 5e-324, Number.MAX_SAFE_INTEGER + 2, -1.25, true, false, null, undefined, () => 1, Symbol('s'), 'é"\\\u0001\u2028'];
    for (const v of odd) {
      expect(canonicalJson(v)).toBe(reference(v));
      expect(canonicalJson([v])).toBe(reference([v]));
      expect(canonicalJson({ [String(typeof v)]: v, k: v })).toBe(reference({ [String(typeof v)]: v, k: v }));
    }
    expect(() => canonicalJson(1n)).toThrow(TypeError);
    // Keys seen many times (a cache of quoted keys) and keys seen once give the same bytes.
    const many = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}\n"`, i]));
    expect(canonicalJson(many)).toBe(reference(many));
    expect(canonicalJson(many)).toBe(reference(many));
  });

  test('a sealed record hashes to SHA-256 of the canonical JSON of everything but its hash, and its line is the record as JSON, seq and ts first', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((k) => !['seq', 'ts', 'prev', 'hash'].includes(k)), value, { maxKeys: 6 }), (entry) => {
        const { record, line } = seal(entry, 7, 'p'.repeat(64), '2026-01-01T00:00:00.000Z');
        const { hash, ...rest } = record as Record<string, unknown>;
        expect(hash).toBe(createHash('sha256').update(reference(rest), 'utf8').digest('hex'));
        expect(recordHash(record)).toBe(hash);
        expect(line).toBe(`${JSON.stringify({ seq: 7, ts: '2026-01-01T00:00:00.000Z', ...entry, prev: 'p'.repeat(64), hash })}\n`);
      }),
      { numRuns: 500 },
    );
  });
});

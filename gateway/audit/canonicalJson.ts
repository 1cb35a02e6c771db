/**
 * JSON with object keys sorted at every level and undefined members left out: one byte string per
 * value, whatever order its keys were built or parsed in, so a hash over it can be recomputed by
 * anyone from the stored line (jq, Python, this code) and only a change of content changes it.
 * Written as plain loops (an insertion sort of each object's few keys, no callbacks): it runs over
 * every audit record, on the request path.
 */
export function canonicalJson(value: unknown): string {
  // Strings, numbers and booleans without a JSON.stringify call each (a finite number's JSON is its ToString).
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? `${value}` : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      break;
    default:
      return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) out += ',';
      out += item === undefined ? 'null' : canonicalJson(item);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = sortInPlace(Object.keys(object));
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const member = object[keys[i]];
    if (member === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${quotedKey(keys[i])}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}

/** Keys as JSON strings, kept: records repeat the same few dozen (bounded, as engines may send keys of their own). */
const QUOTED_KEYS = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = QUOTED_KEYS.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (QUOTED_KEYS.size < 1024) QUOTED_KEYS.set(key, quoted);
  }
  return quoted;
}

/** The order of Array.prototype.sort() (UTF-16 code units), by insertion: objects here have a handful of keys. */
function sortInPlace(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * Tool-call arguments as the engine and the client read them. They travel as a JSON string whose
 * escapes (`\u003c`, `\n`, ...) vLLM decodes (json.loads) before the chat template writes them
 * back unescaped (tojson with ensure_ascii off), and a client decodes the same way: so
 * `\u003c|eot_id|\u003e` in arguments is a real control token to the engine, and a harmful
 * request spelled in escapes is plain text to it. Guards must read the decoded form.
 *
 * Python's json.loads also takes `NaN`, `Infinity` and `-Infinity`, which JSON.parse refuses: read
 * as JSON.parse alone, `{"t":NaN,"note":"\u003c|eot_id|\u003e..."}` stayed escaped for the guards
 * and the control-token check while the engine decoded it. Those are read as Python reads them,
 * and arguments no parser takes are read with their escapes decoded one by one.
 */
import { hasDuplicateMembers } from '../duplicateMembers';

/** The arguments with their JSON escapes decoded (compact JSON), or as sent when there is nothing to decode. */
export function readableArguments(raw: string): string {
  // Without a backslash there is no escape, and the text is already what the engine reads.
  if (!raw.includes('\\')) return raw;
  const parsed = parseAsPython(raw);
  // Re-serialised as json.dumps(ensure_ascii=False) writes its strings: non-ASCII and `<`
  // literal, quotes, backslashes and control characters escaped (separators, key order and
  // non-finite numbers aside, none of which can join two strings into one token). Not when a member
  // is named twice: the parse keeps the last, and the first's text (which the client still gets,
  // and may show) would go unread; the escapes are then decoded in place, every member kept.
  if (parsed.ok && !hasDuplicateMembers(raw, parsed.value)) {
    try {
      return JSON.stringify(parsed.value);
    } catch {
      // nested past the stack (vLLM's json.loads refuses it too): read the escapes in place
    }
  }
  return decodeEscapes(raw);
}

/** JSON as Python's json.loads reads it: the non-finite number literals become null (their text is not read). */
function parseAsPython(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    // fall through: maybe a literal only Python takes
  }
  try {
    return { ok: true, value: JSON.parse(nonFiniteAsNull(raw)) };
  } catch {
    return { ok: false };
  }
}

/** `NaN`, `Infinity`, `-Infinity` outside strings replaced by `null`. */
export function nonFiniteAsNull(raw: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += raw[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    const word = /^(-?Infinity|NaN)/.exec(raw.slice(i, i + 9));
    if (!inString && word) {
      out += 'null';
      i += word[0].length - 1;
      continue;
    }
    out += ch;
  }
  return out;
}

/** Every JSON escape decoded in place, for text no JSON parser takes (what any lenient decoder would make of it). */
export function decodeEscapes(raw: string): string {
  return raw.replace(/\\(u[0-9a-fA-F]{4}|["\\/bfnrt])/g, (_m, e: string) => {
    if (e[0] === 'u') return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e];
  });
}

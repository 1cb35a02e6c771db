/**
 * Whether JSON text names a member twice in one object. JSON.parse keeps the last of two
 * duplicates, so the guards read that one, while the bytes relayed to the client still hold both:
 * a client whose parser keeps the first (several streaming and C/C++ parsers do) would show text
 * no guard read. Counted, not parsed twice: the members written in the text (each is followed by
 * a colon outside a string) against the members of the parsed value.
 */
export function hasDuplicateMembers(text: string, parsed: unknown): boolean {
  return writtenMembers(text) !== parsedMembers(parsed);
}

/** Colons outside strings: one per member written. */
function writtenMembers(text: string): number {
  let count = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x3a) count++;
  }
  return count;
}

/** Own members of every object in the value. Iterative: JSON.parse takes nesting far deeper than the stack. */
function parsedMembers(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (current === null || typeof current !== 'object') continue;
    if (Array.isArray(current)) {
      for (const item of current) pending.push(item);
      continue;
    }
    for (const key of Object.keys(current)) {
      count++;
      pending.push((current as Record<string, unknown>)[key]);
    }
  }
  return count;
}

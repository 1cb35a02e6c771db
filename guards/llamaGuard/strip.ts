/** Trimming exactly as the Llama Guard templates trim each turn's text. */

/**
 * Python's whitespace (`str.isspace`), which Jinja's `trim` and the 8B template's `.strip()` use.
 * JS `trim()` differs: it strips U+FEFF but keeps U+001C..U+001F and U+0085, which Python strips.
 */
export function isPythonSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    (code >= 0x1c && code <= 0x20) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Python's `str.strip()`. A scan, not a regex: `\s+$` backtracks quadratically on hostile input. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

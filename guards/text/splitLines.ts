/**
 * Text written a word or two per line ("how\nto\nmake\na\n...") reads as a sentence to the
 * engine but not to a classifier trained on prose: the bundled content model scored a harmful
 * request split that way at 0.003 and the same words on one line at 0.996. When most lines of a
 * text hold at most two words, the lines joined by spaces are scanned as an extra text.
 */

const MIN_LINES = 4;
const SHORT_LINE_WORDS = 2;
const SHORT_SHARE = 0.8;

/** The text's lines joined by single spaces when it is written a word or two per line; undefined otherwise. */
export function joinedShortLines(text: string): string | undefined {
  if (text.indexOf('\n') < 0) return undefined;
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length < MIN_LINES) return undefined;
  const short = lines.filter((l) => l.split(/\s+/).length <= SHORT_LINE_WORDS).length;
  return short >= SHORT_SHARE * lines.length ? lines.join(' ') : undefined;
}

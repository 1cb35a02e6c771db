/**
 * Leetspeak (`1gn0r3 4ll pr3v10u5 1n5truct10n5`, `h4ck`, `p@ssw0rd`): digits and symbols in place
 * of letters. Decoded only into the `#normalized` variant, and only when the text looks written
 * that way, so that numbers in ordinary text (`log4j`, `COVID-19`, `3 apples`) never change the
 * text the model scores.
 *
 * A token (run of ASCII letters, digits, `@`, `$`) counts as leet when a substitute sits between
 * two letters (`h4ck`, `s3cr3t`, `p@ss`) and every digit in it is one that stands for a letter
 * (so `h264`, `k8s`, `i18n`, `B2B` never count), and it is not a hex number (`0x1f`, `deadbeef12`).
 * The text looks leet with two such tokens among at least 5% of its words, or one in a text of
 * at most eight words.
 */

const TOKEN = /[A-Za-z0-9@$]+/g;
const SUBSTITUTES: Readonly<Record<string, string>> = { '0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };
const NON_LEET_DIGIT = /[2689]/;
const LETTER = /[A-Za-z]/;
const INNER_SUBSTITUTE = /[A-Za-z][01345@$7]+[A-Za-z]/;
const HEX_NUMBER = /^(?:0x[0-9a-f]+|[0-9a-f]{6,})$/i;
const SUBSTITUTE_CHARS = /[0-9@$]/g;

export function isLeetToken(token: string): boolean {
  if (token.length < 3 || NON_LEET_DIGIT.test(token) || HEX_NUMBER.test(token)) return false;
  return INNER_SUBSTITUTE.test(token);
}

export interface LeetCounts {
  leetTokens: number;
  words: number;
}

/** Token characters: ASCII letters, digits, `@`, `$`. */
function isTokenChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x40 || c === 0x24;
}

/**
 * Driven by the substitutes, not by the words: ordinary text has few digits, so this looks at
 * a handful of tokens instead of every word (and stays linear on text without spaces).
 */
export function countLeet(text: string): LeetCounts {
  let leetTokens = 0;
  let scannedTo = 0;
  for (const m of text.matchAll(SUBSTITUTE_CHARS)) {
    if (m.index < scannedTo) continue;
    let start = m.index;
    let end = m.index + 1;
    while (start > scannedTo && isTokenChar(text.charCodeAt(start - 1))) start--;
    while (end < text.length && isTokenChar(text.charCodeAt(end))) end++;
    scannedTo = end;
    const token = text.slice(start, end);
    // `jane@example.com`: an address, not `a` written as `@`.
    if (token.includes('@') && text[end] === '.') continue;
    if (isLeetToken(token)) leetTokens++;
  }
  return { leetTokens, words: countWords(text) };
}

function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 0x20 || (c >= 0x09 && c <= 0x0d);
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

export function looksLeet(c: LeetCounts): boolean {
  return (c.leetTokens >= 2 && c.leetTokens >= 0.05 * c.words) || (c.leetTokens >= 1 && c.words <= 8);
}

/** `1` reads as `l` next to another l or 1 (`ki11`, `he11o`), else as `i` (`1gn0r3`). */
function decodeOne(token: string): string {
  let out = '';
  for (let i = 0; i < token.length; i++) {
    const ch = token[i];
    if (ch === '1') {
      const near = `${token[i - 1] ?? ''}${token[i + 1] ?? ''}`;
      out += /[lL1]/.test(near) ? 'l' : 'i';
    } else {
      out += SUBSTITUTES[ch] ?? ch;
    }
  }
  return out;
}

/** Digits-only tokens short enough to be leet words (`4` a, `45` as, `1` I) in a text written in leet. */
const SHORT_LEET_WORD = /^[0134579@$]{1,3}$/;

/**
 * Every token that has a letter and no digit that stands for no letter, decoded (`4ll` too,
 * which alone would not count as leet), and short digit-only words such as `45` (as); other
 * tokens stay. Only ever applied to a text that looks leet, into the `#normalized` variant.
 */
export function decodeLeet(text: string): string {
  return text.replace(TOKEN, (token) => {
    if (SHORT_LEET_WORD.test(token)) return decodeOne(token);
    if (!LETTER.test(token) || NON_LEET_DIGIT.test(token) || HEX_NUMBER.test(token) || !/[0-9@$]/.test(token)) return token;
    return decodeOne(token);
  });
}

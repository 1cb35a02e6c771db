/**
 * Which writing systems one word mixes. A word that mixes Latin with Cyrillic or Greek letters
 * (`pаypаl` with Cyrillic а) is the classic homoglyph attack, and no ordinary spelling does it.
 * Combinations that ordinary text does use are not "mixed" (TR39's restriction levels allow them
 * too): Latin with Han, Hiragana, Katakana, Hangul or Bopomofo (`Tシャツ`, `K팝`), and the Greek
 * letters that stand for units (`μm`, `kΩ`: NFKC turns the micro and ohm signs into Greek).
 * Common and Inherited characters (digits, marks) belong to no script here.
 */

const LATIN = /\p{Script=Latin}/u;
/** A word character of a script other than Latin, ignoring the scripts Latin may combine with. */
const OTHER_SCRIPT =
  /[^\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}\u03BC\u03A9]/u;
const NON_ASCII = /[^\x00-\x7F]/;

export interface WordScripts {
  latin: boolean;
  /** Letters or digits of a script other than Latin (and those Latin may combine with). */
  other: boolean;
}

export function wordScripts(word: string): WordScripts {
  if (!NON_ASCII.test(word)) return { latin: /[A-Za-z]/.test(word), other: false };
  return { latin: LATIN.test(word), other: OTHER_SCRIPT.test(word) };
}

export function isMixedScriptWord(word: string): boolean {
  const s = wordScripts(word);
  return s.latin && s.other;
}

/** Whether `ch` (one code point) is a Latin-script letter. */
export function isLatinChar(ch: string): boolean {
  return LATIN.test(ch);
}

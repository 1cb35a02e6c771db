/**
 * Accents used to break words apart for a classifier (`ïgnörë prëvïöüs`, zalgo `z̷̢a̶l̷g̵o`).
 * After NFKC an ordinary accented letter is one precomposed character, so "combining marks" in
 * scanned text are what NFKC could not compose: stacks of marks on one letter (zalgo) and marks
 * no orthography uses (strike-through overlays, the extended and supplementary mark blocks).
 *
 * - Those are removed from the scanned text together with any accent of the letter they sit on
 *   (`ǵ̶` -> `g`), when the letter is Latin, Greek, Cyrillic or a symbol (finding
 *   `combining_marks`); scripts that stack marks normally (Hebrew points, Thai tones, Devanagari)
 *   are left alone, and so is a single ordinary mark NFKC cannot compose (Yoruba `ẹ́`).
 * - Folding (all marks on Latin letters removed, `é` -> `e`) is done only for the `#normalized`
 *   variant, scanned in addition to the text, because accents carry meaning in French, Czech or
 *   Vietnamese and the models were trained on them.
 */

/** Marks no orthography uses: overlays U+0334-U+0338, extended, supplement, for-symbols, half marks. */
const NON_ORTHOGRAPHIC_MARK = '\u0334-\u0338\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F';
const ABUSED_MARKS = new RegExp(
  `([\\p{Script=Latin}\\p{Script=Greek}\\p{Script=Cyrillic}\\p{Script=Common}])(?:\\p{M}{2,}|\\p{M}*[${NON_ORTHOGRAPHIC_MARK}]\\p{M}*)`,
  'gu',
);
const LATIN_LETTER = /\p{Script=Latin}/u;
const LATIN_WITH_MARKS = /(\p{Script=Latin})\p{M}+/gu;
const ANY_MARK_OR_ACCENT = /[\u00C0-\u024F\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF\u1E00-\u1EFF\u20D0-\u20FF]/;
const ANY_MARK = /\p{M}/u;

export function removeStackedMarks(text: string): { text: string; found: boolean } {
  if (!ANY_MARK.test(text)) return { text, found: false };
  let found = false;
  const out = text.replace(ABUSED_MARKS, (_all, base: string) => {
    found = true;
    return LATIN_LETTER.test(base) ? [...base.normalize('NFD')][0] : base;
  });
  return { text: out, found };
}

/** Every mark on a Latin letter removed: `ïgnörë` -> `ignore`. */
export function foldDiacritics(text: string): string {
  if (!ANY_MARK_OR_ACCENT.test(text)) return text;
  return text.normalize('NFD').replace(LATIN_WITH_MARKS, '$1').normalize('NFC');
}

export interface AccentCounts {
  /** Latin letters, plain or accented (approximate: the common Latin blocks). */
  letters: number;
  /** Precomposed accented Latin letters. */
  accented: number;
  /** Latin letters followed by a mark NFKC could not compose. */
  residual: number;
}

/** Combining marks NFKC may leave after a Latin letter (diacritical, extended, supplement, for-symbols, half marks). */
function isCombiningMark(c: number): boolean {
  return (c >= 0x300 && c <= 0x36f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f);
}

/**
 * Precomposed Latin letters with a diacritic (those NFD decomposes: `é` yes, `ı ł ø ß` no), for
 * U+00C0-U+024F and U+1E00-U+1EFF, computed once.
 */
const ACCENTED = (() => {
  const table = new Uint8Array(0x1f00);
  for (const [from, to] of [
    [0xc0, 0x24f],
    [0x1e00, 0x1eff],
  ]) {
    for (let c = from; c <= to; c++) if (String.fromCharCode(c).normalize('NFD').length > 1) table[c] = 1;
  }
  return table;
})();

function isAccentedLatin(c: number): boolean {
  return c < 0x1f00 && ACCENTED[c] === 1;
}

/** One pass over the char codes (no regex, no allocation): this runs on every text. */
export function countAccents(text: string): AccentCounts {
  let letters = 0;
  let accented = 0;
  let residual = 0;
  let afterLatin = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
      letters++;
      afterLatin = true;
    } else if (c < 0x80) {
      afterLatin = false;
    } else if (isAccentedLatin(c)) {
      letters++;
      accented++;
      afterLatin = true;
    } else if ((c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) || (c >= 0x1e00 && c <= 0x1eff)) {
      letters++;
      afterLatin = true;
    } else if (isCombiningMark(c)) {
      if (afterLatin) residual++;
      afterLatin = false;
    } else {
      afterLatin = false;
    }
  }
  return { letters, accented, residual };
}

export function addCounts(a: AccentCounts, b: AccentCounts): AccentCounts {
  return { letters: a.letters + b.letters, accented: a.accented + b.accented, residual: a.residual + b.residual };
}

/**
 * Accents used as obfuscation rather than spelling: marks NFKC could not compose on at least
 * three letters, or at least three accented letters making up 15% of all Latin letters (French,
 * Spanish, Portuguese and German run at 1-4%, Polish about 7%, Czech and Hungarian 10-13%;
 * `ïgnörë previous` is at 21%). Vietnamese writing (about 40%) also passes, and so gets the extra
 * `#normalized` scan: a cost, never a finding.
 */
export function accentsLookObfuscated(c: AccentCounts): boolean {
  return c.residual >= 3 || (c.accented >= 3 && c.accented >= 0.15 * c.letters);
}

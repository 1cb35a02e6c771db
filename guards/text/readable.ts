/**
 * Whether bytes decoded from a suspected encoding are text someone meant to be read, rather than
 * binary or the accidental decoding of an ordinary word (`internationalization` is valid base64).
 * Readable: valid UTF-8 (checked by the caller's fatal decoder), at least four characters, at
 * least 95% printable (no controls other than tab and newlines, no U+FFFD), at least half of the
 * non-space characters letters, and a word of two or more letters.
 */

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The bytes as UTF-8, or undefined when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * As decodeUtf8, for bytes that may end inside a character because the encoded run was cut at a
 * budget: up to three trailing bytes are dropped until the rest decodes.
 */
export function decodeUtf8Prefix(bytes: Uint8Array): string | undefined {
  for (let drop = 0; drop <= 3 && drop < bytes.length; drop++) {
    const text = decodeUtf8(drop ? bytes.subarray(0, bytes.length - drop) : bytes);
    if (text !== undefined) return text;
  }
  return undefined;
}

const LETTER = /\p{L}/u;

export function isReadable(text: string): boolean {
  if (text.length < 4) return false;
  let chars = 0;
  let unprintable = 0;
  let nonSpace = 0;
  let letters = 0;
  let run = 0;
  let word = false;
  for (const ch of text) {
    chars++;
    const c = ch.codePointAt(0)!;
    const isSpace = c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
    if (!isSpace) nonSpace++;
    if ((c < 0x20 && !isSpace) || (c >= 0x7f && c <= 0x9f) || c === 0xfffd) unprintable++;
    const letter = c < 0x80 ? (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) : LETTER.test(ch);
    if (letter) {
      letters++;
      if (++run >= 2) word = true;
    } else {
      run = 0;
    }
  }
  return word && unprintable <= 0.05 * chars && letters >= 0.5 * nonSpace;
}

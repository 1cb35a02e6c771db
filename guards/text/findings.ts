/**
 * What text preparation can report about a text: kinds of hiding and obfuscation that were seen
 * and undone. They go to `Verdict.categories` next to a guard's own categories (lower_snake_case,
 * so they never clash with hazard codes such as `S1` or custom `Fraud`), hold no content, and a
 * policy rule can act on them alone (`findings:` in policies/schema.ts, which keeps its own copy
 * of these names because policies import nothing of guards but types; a test keeps them equal).
 */
export const TEXT_FINDINGS = [
  // Hidden characters (sanitize.ts)
  'unicode_tags',
  'invisible_characters',
  'bidi_controls',
  'control_characters',
  'malformed_unicode',
  // Look-alikes (homoglyphs.ts, diacritics.ts, leetspeak.ts)
  'mixed_scripts',
  'homoglyphs',
  'combining_marks',
  'leetspeak',
  // Encoded payloads that decoded to readable text (encodedPayloads.ts, rot13.ts)
  'encoded_base64',
  'encoded_hex',
  'encoded_url',
  'encoded_quoted_printable',
  'encoded_rot13',
  // More candidate payloads than the decoding budget allows: the rest was not decoded.
  'decode_budget_exceeded',
  // Written a word or two per line; the lines joined are scanned too (splitLines.ts)
  'split_lines',
] as const;

export type TextFinding = (typeof TEXT_FINDINGS)[number];

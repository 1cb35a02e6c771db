/**
 * Whether a guard server's error message quotes any of the texts it was sent, so the gateway's log
 * never carries them. Servers quote requests back in their own ways (pydantic's `input_value=...`
 * keeps a text's first and last characters; Python's repr escapes quotes; JSON escapes newlines
 * and non-ASCII), so the message and each text are compared on their letters and digits only,
 * case folded, escapes undone: any run of QUOTE_CHARS of them the two share is a quote, and a text
 * shorter than that is one when the message holds it whole (from MIN_QUOTED on).
 */
const QUOTE_CHARS = 12;
const MIN_QUOTED = 6;

function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

/** A message's escapes as the quoted text had them: `\uXXXX` decoded, `\n`, `\"` and the like a space. */
function unescaped(message: string): string {
  return message.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).replace(/\\[nrtbf"'\\/]/g, ' ');
}

/** Pure: does `message` quote any of `texts` (see above)? Runs on error paths only: linear in the texts. */
export function quotesAny(message: string, texts: Iterable<string>): boolean {
  const said = fold(unescaped(message));
  if (said.length < MIN_QUOTED) return false;
  const runs = new Set<string>();
  for (let i = 0; i + QUOTE_CHARS <= said.length; i++) runs.add(said.slice(i, i + QUOTE_CHARS));
  for (const text of texts) {
    const sent = fold(text);
    if (sent.length < QUOTE_CHARS) {
      if (sent.length >= MIN_QUOTED && said.includes(sent)) return true;
      continue;
    }
    for (let i = 0; i + QUOTE_CHARS <= sent.length; i++) if (runs.has(sent.slice(i, i + QUOTE_CHARS))) return true;
  }
  return false;
}

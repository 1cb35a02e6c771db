import type { ScanText, TextSource } from '../../../guards/types';

/**
 * A payload split one word per message or per content part reads as benign piece by piece, but
 * the engine reads it whole. So each run of consecutive short pieces of one source (request
 * order, at most SHORT_PIECE_WORDS words each) is also scanned joined, with a space between
 * pieces (the bundled content guard scores a sentence split by newlines as safe). Per source,
 * not across sources, so each rule keeps scoring only the sources it names.
 *
 * Only short pieces: a piece long enough to say something is scanned on its own already, and
 * joining every turn of a growing chat would rescan its tail on every request (the verdict
 * caches hold each unchanged text, not a join that grows).
 */
export const JOINED_PREFIX = 'joined:';
export const SHORT_PIECE_WORDS = 16;

export function isShortPiece(text: string): boolean {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return words > 0 && words <= SHORT_PIECE_WORDS;
}

export function joinedTexts(texts: readonly ScanText[]): ScanText[] {
  const runs = new Map<TextSource, { first: string; last: string; pieces: string[] }>();
  const joined: ScanText[] = [];
  const close = (source: TextSource) => {
    const run = runs.get(source);
    // Named by its first and last pieces' paths, so a record says which texts the join read.
    if (run && run.pieces.length > 1) joined.push({ source, path: `${JOINED_PREFIX}${run.first}..${run.last}`, text: run.pieces.join(' ') });
    runs.delete(source);
  };
  texts.forEach((t) => {
    if (t.text.trim() === '') return;
    if (!isShortPiece(t.text)) return close(t.source);
    const run = runs.get(t.source) ?? { first: t.path, last: t.path, pieces: [] };
    run.pieces.push(t.text.trim());
    run.last = t.path;
    runs.set(t.source, run);
  });
  for (const source of [...runs.keys()]) close(source);
  return joined;
}

/** The join is a second reading of texts already listed, not a text of its own (kept out of content capture). */
export function isJoinedText(text: ScanText): boolean {
  return text.path.startsWith(JOINED_PREFIX);
}

import type { ScanText, TextSource } from '../../../guards/types';

/**
 * A payload split one word per message or per content part reads as benign piece by piece, but
 * the engine reads it whole. So each source's texts are also scanned joined (request order, a
 * space between pieces: the bundled content guard scores a sentence split by newlines as safe),
 * as one extra text per source that has more than one. Per source, not across sources, so each
 * rule keeps scoring only the sources it names.
 */
export const JOINED_PREFIX = 'joined:';

export function joinedTexts(texts: readonly ScanText[]): ScanText[] {
  const bySource = new Map<TextSource, string[]>();
  for (const t of texts) {
    if (t.text.trim() === '') continue;
    const list = bySource.get(t.source) ?? [];
    list.push(t.text);
    bySource.set(t.source, list);
  }
  const joined: ScanText[] = [];
  for (const [source, list] of bySource) if (list.length > 1) joined.push({ source, path: `${JOINED_PREFIX}${source}`, text: list.join(' ') });
  return joined;
}

/** The join is a second reading of texts already listed, not a text of its own (kept out of content capture). */
export function isJoinedText(text: ScanText): boolean {
  return text.path.startsWith(JOINED_PREFIX);
}

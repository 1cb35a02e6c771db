import type { ScanText } from '../../../guards/types';
import { JOINED_PREFIX } from './joinedTexts';

/**
 * A message's text parts as engines join them. vLLM puts a newline between a message's text parts,
 * SGLang a space, TGI and Ollama's Responses API nothing: there `metham` + `phetamine` is one word,
 * and `<|eot` + `_id|>` one control token. The guards read each part, and short ones joined with a
 * space (joinedTexts.ts); where a part ends and the next begins without whitespace, they also read
 * the parts joined with nothing, as one more text (a `joined:` path: a second reading, not a text of
 * its own). Per list of parts (`...content`, a tool result's `...output`, a reasoning item's `...summary`), in order.
 */
// A text part keeps the short path `...content[j]`; reasoning parts name their member (`...summary[j].text`).
const PART_PATH = /^(.+\.(?:content|output|summary))\[\d+\](?:\.text)?$/;

export function gluedParts(texts: readonly ScanText[]): ScanText[] {
  // Per list whatever each part's source (a `document` part beside text parts is joined to them by the engine too).
  const lists = new Map<string, ScanText[]>();
  for (const t of texts) {
    const list = PART_PATH.exec(t.path)?.[1];
    if (list === undefined || t.text === '') continue;
    (lists.get(list) ?? lists.set(list, []).get(list)!).push(t);
  }
  const glued: ScanText[] = [];
  for (const [list, parts] of lists) {
    if (parts.length < 2 || !partsTouch(parts)) continue;
    const text = parts.map((p) => p.text).join('');
    // Once per source the list holds (a user's text part beside a document part): each source's rules read it.
    for (const source of new Set(parts.map((p) => p.source))) glued.push({ source, path: `${JOINED_PREFIX}${list}`, text });
  }
  return glued;
}

/** Whether some part ends and the next begins with a visible character (joined with nothing, they run together). */
function partsTouch(parts: readonly ScanText[]): boolean {
  for (let i = 0; i + 1 < parts.length; i++) {
    if (/\S$/.test(parts[i].text) && /^\S/.test(parts[i + 1].text)) return true;
  }
  return false;
}

/** A turn's glued reading (ChatTurn.glued) from its texts, or undefined. */
export function gluedTurnText(texts: readonly ScanText[]): string | undefined {
  const glued = [...new Set(gluedParts(texts).map((t) => t.text))];
  return glued.length ? glued.join('\n') : undefined;
}

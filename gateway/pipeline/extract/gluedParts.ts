import type { ScanText } from '../../../guards/types';
import { JOINED_PREFIX } from './joinedTexts';

/**
 * A message's text parts as engines join them. vLLM puts a newline between a message's text parts,
 * SGLang a space, TGI and Ollama's Responses API nothing: there `metham` + `phetamine` is one word,
 * and `<|eot` + `_id|>` one control token. The guards read each part, and short ones joined with a
 * space (joinedTexts.ts); where a part ends and the next begins without whitespace, they also read
 * the parts joined with nothing, as one more text (a `joined:` path: a second reading, not a text of
 * its own). Per content list (`...content`, a tool result's `...output`) and source, in order.
 */
const PART_PATH = /^(.+\.(?:content|output))\[\d+\]$/;

export function gluedParts(texts: readonly ScanText[]): ScanText[] {
  const lists = new Map<string, ScanText[]>();
  for (const t of texts) {
    const list = PART_PATH.exec(t.path)?.[1];
    if (list === undefined || t.text === '') continue;
    const key = `${t.source} ${list}`;
    (lists.get(key) ?? lists.set(key, []).get(key)!).push(t);
  }
  const glued: ScanText[] = [];
  for (const parts of lists.values()) {
    if (parts.length < 2 || !partsTouch(parts)) continue;
    const list = PART_PATH.exec(parts[0].path)![1];
    glued.push({ source: parts[0].source, path: `${JOINED_PREFIX}${list}`, text: parts.map((p) => p.text).join('') });
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
  const glued = gluedParts(texts);
  return glued.length ? glued.map((t) => t.text).join('\n') : undefined;
}

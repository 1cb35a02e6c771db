import type { ScanText } from '../../../guards/types';
import { isTypeName, stringLeaves } from './stringLeaves';

/**
 * vLLM's top-level `documents` (rendered into the prompt by RAG chat templates): third-party
 * content, every string of every document, one text per document.
 */
export function documentTexts(documents: readonly unknown[] | null | undefined): ScanText[] {
  return (documents ?? []).flatMap((doc, i) => {
    const path = `documents[${i}]`;
    // Keys too: RAG templates render a document as `key: value` lines.
    const pieces = stringLeaves(doc, path, { keys: true, skipValue: isTypeName }).map((l) => l.text);
    return pieces.length ? [{ source: 'document' as const, path, text: pieces.join(' ') }] : [];
  });
}

/**
 * Turns a request's texts into what the model scores: each text sanitized (sanitize.ts), blank
 * texts dropped (nothing to classify), and the ASCII hidden in Unicode tag characters added as
 * a text of its own at `<path>#unicode_tags`, so a smuggled instruction is scored even though
 * no reader ever sees it.
 */
import type { ScanText, TextSource } from '../types';
import { sanitizeText, type TextFinding } from './sanitize';

export interface PreparedText {
  source: TextSource;
  path: string;
  text: string;
}

export const HIDDEN_TEXT_SUFFIX = '#unicode_tags';

export function prepareTexts(texts: readonly ScanText[]): { items: PreparedText[]; findings: TextFinding[] } {
  const items: PreparedText[] = [];
  const findings = new Set<TextFinding>();
  for (const t of texts) {
    const clean = sanitizeText(typeof t.text === 'string' ? t.text : String(t.text ?? ''));
    clean.findings.forEach((f) => findings.add(f));
    if (clean.text.trim()) items.push({ source: t.source, path: t.path, text: clean.text });
    if (clean.hidden.trim()) items.push({ source: t.source, path: t.path + HIDDEN_TEXT_SUFFIX, text: clean.hidden });
  }
  return { items, findings: [...findings] };
}

/**
 * Turns a request's texts into what the model scores: each text sanitized (sanitize.ts), blank
 * texts dropped (nothing to classify), and the ASCII hidden in Unicode tag characters added as
 * a text of its own at `<path>#unicode_tags`, so a smuggled instruction is scored even though
 * no reader ever sees it.
 *
 * Long texts are sanitized in slices cut just before whitespace (NFKC and every removal step
 * act within a word, so the result equals sanitizing the whole), yielding to the event loop
 * between slices.
 */
import { pause } from '../runtime/yield';
import type { ScanText, TextSource } from '../types';
import { sanitizeText, type SanitizedText, type TextFinding } from './sanitize';
import { sliceForTokenization } from './slices';

export interface PreparedText {
  source: TextSource;
  path: string;
  text: string;
}

export const HIDDEN_TEXT_SUFFIX = '#unicode_tags';
/** Characters sanitized between two event-loop turns (~1-2 ms of regex work). */
export const SANITIZE_SLICE_CHARS = 32 * 1024;

export async function sanitizeLongText(text: string, signal?: AbortSignal, sliceChars = SANITIZE_SLICE_CHARS): Promise<SanitizedText> {
  if (text.length <= sliceChars) return sanitizeText(text);
  const slices = sliceForTokenization(text, sliceChars);
  const texts: string[] = [];
  const hidden: string[] = [];
  const findings = new Set<TextFinding>();
  for (let i = 0; i < slices.length; i++) {
    if (i > 0) await pause(signal);
    const part = sanitizeText(slices[i]);
    texts.push(part.text);
    if (part.hidden) hidden.push(part.hidden);
    part.findings.forEach((f) => findings.add(f));
  }
  return { text: texts.join(''), hidden: hidden.join(' '), findings: [...findings] };
}

export async function prepareTexts(texts: readonly ScanText[], signal?: AbortSignal): Promise<{ items: PreparedText[]; findings: TextFinding[] }> {
  const items: PreparedText[] = [];
  const findings = new Set<TextFinding>();
  for (const t of texts) {
    // Guard against callers that bypass the types (JSON bodies): a non-string is scanned as its string form.
    const raw = typeof t.text === 'string' ? t.text : String(t.text ?? '');
    const clean = await sanitizeLongText(raw, signal);
    clean.findings.forEach((f) => findings.add(f));
    if (clean.text.trim()) items.push({ source: t.source, path: t.path, text: clean.text });
    if (clean.hidden.trim()) items.push({ source: t.source, path: t.path + HIDDEN_TEXT_SUFFIX, text: clean.hidden });
  }
  return { items, findings: [...findings] };
}

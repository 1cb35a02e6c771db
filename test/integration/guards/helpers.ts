import * as path from 'node:path';
import { TEXT_SOURCES, type GuardRequest, type ScanText, type TextSource } from '../../../guards/types';

export const FIXTURES = path.join(__dirname, '../../fixtures/models');
export const PG_V1 = path.join(FIXTURES, 'prompt-guard-v1-tiny');
export const PG_V2 = path.join(FIXTURES, 'prompt-guard-v2-tiny');
export const CONTENT = path.join(FIXTURES, 'content-guard-tiny');

export const ALL_SOURCES: readonly TextSource[] = TEXT_SOURCES;

export function input(...texts: ScanText[]): GuardRequest {
  return { direction: 'input', texts, conversation: [] };
}

export function text(source: TextSource, body: string, p = `messages[0].content`): ScanText {
  return { source, path: p, text: body };
}

/** `n` benign words; each is one token of the fixture tokenizer. */
export function filler(n: number): string {
  const words = ['hello', 'world', 'please', 'tell', 'the', 'weather', 'today'];
  return Array.from({ length: n }, (_, i) => words[i % words.length]).join(' ');
}

export function toTags(ascii: string): string {
  return [...ascii].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
}

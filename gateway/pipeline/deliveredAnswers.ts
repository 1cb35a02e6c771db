import { createHash } from 'node:crypto';
import type { ScanText } from '../../guards/types';
import { isJoinedText, joinedTexts } from './extract/joinedTexts';

/**
 * Answers this gateway delivered after its output rules passed them, remembered by hash (never
 * their text) so that a client resending one as an earlier assistant turn is not blocked by a rule
 * meant for forged turns. Prompt Guard's jailbreak score reads what a person wrote; on a model's
 * own answers it misfires (2.4% of benign test answers of benign-chat and CoCoNot score over the
 * default threshold), and one such answer in a chat's history blocked every later turn of it. An
 * assistant turn the gateway did not deliver, word for word, is still checked as a possible forgery,
 * and every turn still reaches the content guard, which reads the whole conversation.
 *
 * What it gives up: text a client got the engine to write (past the input rules, then passed by
 * the output rules) is not read by Prompt Guard again when resent. An operator who would rather
 * refuse such chats sets `guards.delivered_answers: 0`.
 *
 * Bounded, oldest forgotten first; one gateway process (a replica that did not deliver an answer
 * checks it as before).
 */
export class DeliveredAnswers {
  private readonly hashes = new Map<string, true>();

  constructor(readonly maxEntries = 100_000) {}

  remember(text: string): void {
    if (text === '' || this.maxEntries <= 0) return;
    const key = digest(text);
    this.hashes.delete(key);
    this.hashes.set(key, true);
    if (this.hashes.size > this.maxEntries) this.hashes.delete(this.hashes.keys().next().value as string);
  }

  recognizes(text: string): boolean {
    return text !== '' && this.hashes.has(digest(text));
  }

  get size(): number {
    return this.hashes.size;
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/**
 * The request's texts less the assistant turns the gateway delivered (`recognized`: their paths,
 * for the record), with each source's joined runs rebuilt from what is left, so a delivered answer
 * is not scanned inside a join either.
 */
export function withoutDeliveredAnswers(texts: readonly ScanText[], answers: DeliveredAnswers): { texts: ScanText[]; recognized: string[] } {
  const recognized: string[] = [];
  if (answers.size === 0) return { texts: [...texts], recognized };
  const kept = texts.filter((t) => {
    if (isJoinedText(t)) return false;
    if (t.source === 'assistant' && answers.recognizes(t.text)) {
      recognized.push(t.path);
      return false;
    }
    return true;
  });
  if (recognized.length === 0) return { texts: [...texts], recognized };
  return { texts: [...kept, ...joinedTexts(kept)], recognized };
}

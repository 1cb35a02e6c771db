/** Cache keys name the model, how the text is scored, and a hash of the text (never the text itself). */
import { createHash } from 'node:crypto';
import { pause } from './yield';

/** Bytes hashed between two event-loop turns (sha256 runs at roughly 0.5 GB/s). */
const HASH_STEP_CHARS = 256 * 1024;

export function cacheKeyFromDigest(namespace: string, kind: string, digest: string): string {
  return `${namespace}\u0000${kind}\u0000${digest}`;
}

export function textCacheKey(namespace: string, kind: string, text: string): string {
  return cacheKeyFromDigest(namespace, kind, createHash('sha256').update(text, 'utf8').digest('hex'));
}

/** Same key as textCacheKey, hashed in steps for long text. */
export async function textCacheKeyAsync(namespace: string, kind: string, text: string, signal?: AbortSignal): Promise<string> {
  if (text.length <= HASH_STEP_CHARS) return textCacheKey(namespace, kind, text);
  const hash = createHash('sha256');
  let from = 0;
  while (from < text.length) {
    if (from > 0) await pause(signal);
    let to = Math.min(text.length, from + HASH_STEP_CHARS);
    // Never split a surrogate pair: each half alone would be hashed as U+FFFD.
    const code = text.charCodeAt(to - 1);
    if (to < text.length && code >= 0xd800 && code <= 0xdbff) to--;
    hash.update(text.slice(from, to), 'utf8');
    from = to;
  }
  return cacheKeyFromDigest(namespace, kind, hash.digest('hex'));
}

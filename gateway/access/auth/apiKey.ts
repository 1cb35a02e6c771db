import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `sk-sg-` and 43 characters of base64url (32 random bytes). Keys are high-entropy, so a
 * plain SHA-256 is enough to store them (a slow password hash would only slow every request); the
 * clear key exists only in the `keys add` output.
 */
export const KEY_PREFIX = 'sk-sg-';

export function generateApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** Public id used by `keys list` and `keys revoke`; random, so it says nothing about the key. */
export function generateKeyId(): string {
  return `key_${randomBytes(6).toString('hex')}`;
}

/** What `keys list` shows of a key: enough to recognise it, far too little to use it. */
export function displayPrefix(key: string): string {
  return `${key.slice(0, KEY_PREFIX.length + 4)}...`;
}

/**
 * Constant-time comparison of two stored-form hashes. Both sides are digests, so even the length
 * check leaks nothing about a key.
 */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The key of an `Authorization: Bearer <key>` header, as OpenAI clients send it; undefined when
 * the header is missing or is not a bearer credential.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

import { z } from 'zod';
import { KeyLimits } from '../rateLimit/keyLimits';

export const APP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const KEY_HASH = /^sha256:[0-9a-f]{64}$/;

/** A key given in the config (or SAFETY_API_KEYS): only its hash is held. */
export const InlineKey = z.strictObject({
  app: z.string().regex(APP_ID, 'app ids are letters, digits, . _ -'),
  hash: z.string().regex(KEY_HASH, 'a key hash looks like sha256:<64 hex digits>'),
  /** Its id in audit records and rate limits (`inline_<id>`); default `inline_<app>_<n>`, the app's n-th inline key. */
  id: z.string().regex(APP_ID, 'key ids are letters, digits, . _ -').optional(),
  policy: z.string().optional(),
  limits: KeyLimits.optional(),
});
export type InlineKey = z.infer<typeof InlineKey>;

/**
 * Audit and rate-limit ids of inline keys: `inline_<id>` when given, else `inline_<app>_<n>` (the
 * app's n-th inline key). Never derived from the key: anything computed from the key alone (its
 * hash's first digits, say) lets whoever reads an audit record test guesses of a weak key offline.
 */
export function inlineKeyIds(inline: readonly InlineKey[]): string[] {
  const perApp = new Map<string, number>();
  return inline.map((k) => {
    const n = (perApp.get(k.app) ?? 0) + 1;
    perApp.set(k.app, n);
    return k.id ? `inline_${k.id}` : `inline_${k.app}_${n}`;
  });
}

/** `keys:` in the gateway config. No file and no inline keys: open access, loopback only. */
export const KeysConfig = z.strictObject({
  /** The keys file `safety-gateway keys add|list|revoke` manages; also SAFETY_KEYS_FILE. */
  file: z.string().optional(),
  inline: z
    .array(InlineKey)
    .default([])
    // Unique as recorded: an explicit id `cli_1` would otherwise share `inline_cli_1` with app cli's first key.
    .refine((keys) => new Set(inlineKeyIds(keys)).size === keys.length, 'inline key ids must be unique (an explicit id may not repeat another, nor equal <app>_<n> of an app\'s n-th key without one)'),
  /** How often the keys file is checked for changes (revocations apply without a restart). */
  reload_interval_ms: z.number().int().min(50).max(2_147_483_647).default(1000),
});
export type KeysConfig = z.infer<typeof KeysConfig>;

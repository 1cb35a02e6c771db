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

/** `keys:` in the gateway config. No file and no inline keys: open access, loopback only. */
export const KeysConfig = z.strictObject({
  /** The keys file `safety-gateway keys add|list|revoke` manages; also SAFETY_KEYS_FILE. */
  file: z.string().optional(),
  inline: z
    .array(InlineKey)
    .default([])
    .refine((keys) => new Set(keys.map((k) => k.id).filter(Boolean)).size === keys.filter((k) => k.id).length, 'inline key ids must be unique'),
  /** How often the keys file is checked for changes (revocations apply without a restart). */
  reload_interval_ms: z.number().int().min(50).default(1000),
});
export type KeysConfig = z.infer<typeof KeysConfig>;

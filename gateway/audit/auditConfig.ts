import { z } from 'zod';

/** Config `audit:` the durable local audit log (gateway/audit/README.md). */
export const AuditConfig = z.strictObject({
  /** Directory of the JSON-lines files; relative paths resolve from the working directory. Env: SAFETY_AUDIT_DIR. */
  dir: z.string().min(1).default('.audit'),
  /** always: fdatasync before each response (group-committed); interval: written before the response, fdatasync every fsync_interval_ms. */
  fsync: z.enum(['always', 'interval']).default('always'),
  fsync_interval_ms: z.number().int().positive().max(2_147_483_647).default(1000),
  /**
   * A new file when the current one reaches this size... At most 256 MiB: a restart reads the newest
   * file, and `audit verify|query|stats` each file, as one string (Node's limit is 512 MiB; a larger
   * file stopped the gateway at its next start).
   */
  max_file_bytes: z.number().int().min(4096).max(256 * 1024 * 1024).default(64 * 1024 * 1024),
  /** ...or this age. The hash chain runs on across files. */
  max_file_age_s: z.number().positive().max(2_147_483).default(24 * 3600),
  /**
   * Ed25519 private key (PKCS#8 PEM, from `safety-gateway audit keygen`) that signs checkpoints of
   * the chain, so a rewrite of the whole chain shows. Env: SAFETY_AUDIT_SIGNING_KEY_FILE.
   */
  signing_key_file: z.string().min(1).optional(),
  /** A checkpoint after this many records... */
  checkpoint_every_records: z.number().int().min(1).max(1_000_000).default(1000),
  /** ...and every this many seconds (idle or not), before each rotation, at start and at shutdown. */
  checkpoint_every_s: z.number().min(1).max(86_400).default(60),
  /**
   * Refusals (401, 429, invalid requests, policy_unavailable) recorded one by one per window; past
   * these, a source's refusals are counted into one summary record per kind, status and reason,
   * written when the window ends, so a flood cannot fill the disk. 0: no bound.
   */
  refusals: z
    .strictObject({
      /** Per source (its API key, else its client address) per window. */
      per_source: z.number().int().min(0).max(1_000_000).default(20),
      /** All sources together per window. */
      total: z.number().int().min(0).max(10_000_000).default(600),
      window_s: z.number().min(1).max(3600).default(60),
      /** Sources told apart per window; refusals from further ones are summarized together, naming none. */
      max_sources: z.number().int().min(1).max(1_000_000).default(1000),
    })
    .prefault({}),
});
export type AuditConfig = z.infer<typeof AuditConfig>;

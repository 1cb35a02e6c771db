import { z } from 'zod';

/** Config `audit:` the durable local audit log (gateway/audit/README.md). */
export const AuditConfig = z.strictObject({
  /** Directory of the JSON-lines files; relative paths resolve from the working directory. Env: SAFETY_AUDIT_DIR. */
  dir: z.string().min(1).default('.audit'),
  /** always: fdatasync before each response (group-committed); interval: written before the response, fdatasync every fsync_interval_ms. */
  fsync: z.enum(['always', 'interval']).default('always'),
  fsync_interval_ms: z.number().int().positive().default(1000),
  /** A new file when the current one reaches this size... */
  max_file_bytes: z.number().int().min(4096).default(64 * 1024 * 1024),
  /** ...or this age. The hash chain runs on across files. */
  max_file_age_s: z.number().positive().default(24 * 3600),
});
export type AuditConfig = z.infer<typeof AuditConfig>;

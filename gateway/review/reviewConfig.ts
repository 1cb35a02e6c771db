import { z } from 'zod';
import { parseAnchor } from '../audit/chainVerifier';

/**
 * `SEQ:HASH`, the last record of older files archived and removed, as `audit verify` printed it
 * (its `--after`): parsed by the same helper, so the page and verify accept exactly the same text.
 */
export const ChainAnchorText = z.string().transform((text, ctx) => {
  const anchor = parseAnchor(text);
  if (anchor) return anchor;
  ctx.issues.push({ code: 'custom', input: text, message: `must be SEQ:HASH, the last record as \`audit verify\` printed it (--after ...), got "${text}"` });
  return z.NEVER;
});

/** Config `review:` the read-only review page at /review on the gateway (gateway/review/README.md). */
export const ReviewConfig = z.strictObject({
  /** Serve the review page at /review on the gateway's port. */
  enabled: z.boolean().default(false),
  /**
   * The reviewers' key (HTTP Basic password or Bearer), separate from app keys. Env:
   * SAFETY_REVIEW_ADMIN_KEY. Without one the page is served to loopback clients only, and only by a
   * gateway that listens on loopback.
   */
  admin_key: z.string().min(16, 'use a long random key (16+ characters)').optional(),
  /** Ed25519 public keys (PEM) that checkpoints are checked against; default: the public half of audit.signing_key_file. */
  public_key_files: z.array(z.string().min(1)).default([]),
  /** The SQLite index; default: `.review-index.sqlite` in the audit directory. */
  index_file: z.string().min(1).optional(),
  /**
   * Older files were archived and removed: the log must continue from their last record (`SEQ:HASH`,
   * as for `audit verify --after`) instead of starting at seq 1. Unset: a log that does not start at
   * seq 1 is reported broken (truncated_start).
   */
  after: ChainAnchorText.optional(),
});
export type ReviewConfig = z.infer<typeof ReviewConfig>;

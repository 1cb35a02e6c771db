import type { AdminKeyRefused } from './reviewAccess';
import type { KeyObject } from 'node:crypto';
import type { Router } from 'express';
import type { ChainAnchor } from '../audit/chainVerifier';
import { loadPublicKey, loadSigningKey } from '../audit/signingKey';
import { AuditIndex } from './auditIndex';
import { reviewRouter } from './reviewRouter';

export interface ReviewServiceOptions {
  auditDir: string;
  indexFile?: string;
  adminKey?: string;
  /** Public keys (PEM) to check checkpoints with. */
  publicKeyFiles: string[];
  /** Also trust the public half of this private key (the gateway's own signing key). */
  signingKeyFile?: string;
  log: (line: string) => void;
  /** Start over: drop the index and build it again from the log. */
  rebuild?: boolean;
  /** Older files were archived and removed: the log must continue from their last record (`--after SEQ:HASH`, `review.after`). */
  after?: ChainAnchor;
  /** A refused admin key (the gateway's mount audits it). */
  onRefused?: AdminKeyRefused;
}

export interface ReviewService {
  router: Router;
  index: AuditIndex;
  close(): void;
}

/** Pure: is this listen address loopback-only? */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The index and the router over one audit directory; the index starts catching up at once, in slices. */
export function createReviewService(options: ReviewServiceOptions): ReviewService {
  const keys = new Map<string, KeyObject>();
  for (const file of options.publicKeyFiles) {
    const { publicKey, keyId } = loadPublicKey(file);
    keys.set(keyId, publicKey);
  }
  if (options.signingKeyFile && keys.size === 0) {
    try {
      const key = loadSigningKey(options.signingKeyFile);
      keys.set(key.keyId, key.publicKey);
      options.log(`review: checking checkpoints with the public half of audit.signing_key_file (${key.keyId}); give verifiers' own copy with review.public_key_files`);
    } catch (err) {
      // A reviewer on another host or user need not read the gateway's private key: the page still serves.
      options.log(`review: audit.signing_key_file is not readable here (${(err as Error).message}); give the public key with --public-key or review.public_key_files`);
    }
  }
  if (keys.size === 0) options.log('review: no public key given: signed checkpoints are listed but not checked (--public-key FILE)');
  if (options.after) options.log(`review: older files were archived: the log must continue from their last record, seq ${options.after.seq} (--after)`);
  const index = new AuditIndex({ auditDir: options.auditDir, indexFile: options.indexFile, publicKeys: keys, log: options.log, rebuild: options.rebuild, after: options.after });
  void index.refresh();
  return {
    router: reviewRouter({ index, auditDir: options.auditDir, adminKey: options.adminKey, log: options.log, onRefused: options.onRefused }),
    index,
    close: () => index.close(),
  };
}

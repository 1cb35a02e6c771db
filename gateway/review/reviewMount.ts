import type { GatewayConfig } from '../config';
import type { AdminKeyRefused } from './reviewAccess';
import { createReviewService, isLoopbackHost, type ReviewService } from './reviewService';

/**
 * The review page on the gateway's own port at /review (config `review.enabled`). Without an admin
 * key it is served to loopback clients only, and only by a gateway that listens on loopback: behind
 * a reverse proxy on the same machine every client would look local.
 */
export function startReviewMount(config: GatewayConfig, log: (line: string) => void, onRefused?: AdminKeyRefused): ReviewService {
  const adminKey = config.review.admin_key;
  if (!adminKey && !isLoopbackHost(config.host)) {
    throw new Error(`review.enabled needs review.admin_key (or SAFETY_REVIEW_ADMIN_KEY) when the gateway listens on ${config.host}: without one the review page is for loopback only`);
  }
  if (!adminKey && config.trust_proxy !== false) {
    throw new Error('review.enabled needs review.admin_key (or SAFETY_REVIEW_ADMIN_KEY) when trust_proxy is set: behind a proxy every client looks local');
  }
  const service = createReviewService({
    auditDir: config.audit.dir,
    indexFile: config.review.index_file,
    adminKey,
    publicKeyFiles: config.review.public_key_files,
    signingKeyFile: config.audit.signing_key_file,
    after: config.review.after,
    log,
    onRefused,
  });
  log(`review: GET /review serves the audit log of ${config.audit.dir}${adminKey ? ' (admin key required)' : ' (no admin key: loopback clients only)'}`);
  return service;
}

import { metrics, type Counter, type Histogram, type MeterProvider, type UpDownCounter } from '@opentelemetry/api';
import { observeQueueWait } from '../../guards/runtime/microBatcher';
import { GATEWAY, SECURITY } from './attributes';

/**
 * The gateway's metric instruments. The OTel API has no proxy for meters (unlike tracers and
 * loggers): instruments made before the SDK registers its MeterProvider stay no-ops forever. So
 * they are made on first use and remade when the global provider changes; callers (the rate
 * limiter, the policy watcher) can record at any time, before or without the SDK.
 */
export interface Instruments {
  requests: Counter;
  guardVerdicts: Counter;
  guardDuration: Histogram;
  engineDuration: Histogram;
  timeToFirstChunk: Histogram;
  tokenUsage: Histogram;
  rateLimitRejections: Counter;
  authRejections: Counter;
  invalidRequestRejections: Counter;
  policyUnavailableRejections: Counter;
  policyReloads: Counter;
  auditRecords: Counter;
  requestDuration: Histogram;
  inFlight: UpDownCounter;
  guardQueueWait: Histogram;
}

const METER = 'safety-gateway';
/** Latency buckets in seconds: guards answer in milliseconds, engines in seconds to minutes. */
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144];
/** Queue waits in seconds: an idle guard adds none, a saturated one whole batch runs (milliseconds to seconds). */
const QUEUE_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

let cached: { provider: MeterProvider; instruments: Instruments } | undefined;

export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cached?.provider === provider) return cached.instruments;
  const meter = provider.getMeter(METER);
  const made: Instruments = {
    requests: meter.createCounter('safety.requests', { description: 'Guarded requests by final action (allow, flag, block) and status', unit: '{request}' }),
    guardVerdicts: meter.createCounter('safety.guard.verdicts', { description: 'Guard verdicts by guard, label, rule action and mode', unit: '{verdict}' }),
    guardDuration: meter.createHistogram('safety.guard.duration', { description: 'Guard run latency by guard and model', unit: 's', advice: { explicitBucketBoundaries: SECONDS } }),
    engineDuration: meter.createHistogram('gen_ai.client.operation.duration', { description: 'Engine call duration', unit: 's', advice: { explicitBucketBoundaries: SECONDS } }),
    timeToFirstChunk: meter.createHistogram('gen_ai.client.operation.time_to_first_chunk', { description: 'Time from the engine request to its first streamed chunk', unit: 's', advice: { explicitBucketBoundaries: SECONDS } }),
    tokenUsage: meter.createHistogram('gen_ai.client.token.usage', { description: 'Tokens per engine call, input and output', unit: '{token}', advice: { explicitBucketBoundaries: TOKENS } }),
    rateLimitRejections: meter.createCounter('safety.rate_limit.rejections', { description: 'Requests refused by a rate limit (429), by app, limit kind and reason', unit: '{request}' }),
    authRejections: meter.createCounter('safety.auth.rejections', { description: 'Requests refused for a missing or unknown API key (401), by reason', unit: '{request}' }),
    invalidRequestRejections: meter.createCounter('safety.invalid_request.rejections', {
      description: 'Requests on the guarded routes refused before their guarded call (400, 413, 415: invalid JSON or schema, a field the gateway cannot check, a hardening limit) and passthrough paths refused 400 invalid_path (route label /v1/*), by route, app and reason',
      unit: '{request}',
    }),
    policyUnavailableRejections: meter.createCounter('safety.policy_unavailable.rejections', {
      description: 'Requests on the guarded routes refused 503 policy_unavailable (the key assigns a policy id the gateway has not loaded), by route, app and that policy id',
      unit: '{request}',
    }),
    policyReloads: meter.createCounter('safety.policy.reloads', { description: 'Policy reloads by outcome (success, failure)', unit: '{reload}' }),
    auditRecords: meter.createCounter('safety.audit.records', { description: 'Audit log appends by outcome (written, failed)', unit: '{record}' }),
    // The unit is in these names because GET /metrics (the JS Prometheus exporter) adds no unit
    // suffix while the Collector's Prometheus exporter adds one unless the name holds it already:
    // so both paths expose the same `..._seconds` name and one set of alert rules fits both.
    requestDuration: meter.createHistogram('safety.request.duration_seconds', {
      description: 'Whole request, received to last byte sent, by route, method, status, stream or not, and the x-safety-verdict sent',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS },
    }),
    inFlight: meter.createUpDownCounter('safety.requests.in_flight', { description: 'Requests received and not yet answered in full (streams until their last byte)', unit: '{request}' }),
    guardQueueWait: meter.createHistogram('safety.guard.queue_wait_seconds', {
      description: "Encoder guards: how long each segment waited in the micro-batcher's queue before its batch ran",
      unit: 's',
      advice: { explicitBucketBoundaries: QUEUE_SECONDS },
    }),
  };
  cached = { provider, instruments: made };
  return made;
}

/** One call per request a rate limit refuses (429). */
export function recordRateLimitRejection(app: string, kind: 'requests' | 'tokens' | 'concurrency', reason: string): void {
  instruments().rateLimitRejections.add(1, { [GATEWAY.APP]: app, [GATEWAY.RATE_LIMIT_KIND]: kind, [GATEWAY.REJECTION_REASON]: reason });
}

/** One call per request refused for its API key (401). No app: the key named none. */
export function recordAuthRejection(reason: string): void {
  instruments().authRejections.add(1, { [GATEWAY.REJECTION_REASON]: reason });
}

/** One call per request a guarded route refuses before its guarded call (400, 413, 415); `reason` is the error code. */
export function recordInvalidRequestRejection(route: string, app: string, reason: string): void {
  instruments().invalidRequestRejections.add(1, { [GATEWAY.HTTP_ROUTE]: route, [GATEWAY.APP]: app, [GATEWAY.REJECTION_REASON]: reason });
}

/** One call per guarded request refused 503 policy_unavailable; the policy id is operator config (one value per key), so a bounded label. */
export function recordPolicyUnavailableRejection(route: string, app: string, policyId: string): void {
  instruments().policyUnavailableRejections.add(1, { [GATEWAY.HTTP_ROUTE]: route, [GATEWAY.APP]: app, [SECURITY.POLICY_ID]: policyId });
}

/** For the policy watcher: one call per reload attempt; a failure keeps the last good policy. */
export function recordPolicyReload(policyId: string, outcome: 'success' | 'failure'): void {
  instruments().policyReloads.add(1, { [SECURITY.POLICY_ID]: policyId, [GATEWAY.OUTCOME]: outcome });
}

// The encoder guards' micro-batcher reports queue waits through a process-wide hook (guards import
// nothing of telemetry); registered once, when the gateway's metrics are first loaded.
observeQueueWait((waitMs) => instruments().guardQueueWait.record(waitMs / 1000));

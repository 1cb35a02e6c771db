import type { GatewayConfig } from '../config';
import type { DecisionRecorder } from '../record/requestRecord';
import { contentSalt } from '../telemetry/contentCapture';
import { setEngineProviderName } from '../telemetry/spans';
import { acquireTelemetry, type TelemetryHandle } from '../telemetry/telemetrySdk';
import { TelemetryRecorder } from '../telemetry/telemetryRecorder';
import { AuditLog } from './auditLog';
import { AuditRecorder } from './auditRecorder';
import { BoundedRefusalRecorder } from './boundedRefusalRecorder';
import type { CheckpointSigner } from './checkpoint';
import { loadSigningKey } from './signingKey';

export interface DecisionRecording {
  recorder: DecisionRecorder;
  /** For /readyz: the audit log's problem, if any. */
  readinessChecks: (() => Promise<string | undefined>)[];
  /** True when this gateway makes request spans. */
  telemetry: boolean;
  close(): Promise<void>;
}

/**
 * What `npm start` records decisions with: the audit log (shared per directory in this process)
 * and OpenTelemetry (one SDK per process). A bad audit directory does not stop the gateway: it
 * starts, says so loudly, answers guarded requests with 503 audit_unavailable, and /readyz reports it.
 */
export async function startDecisionRecording(config: GatewayConfig, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<DecisionRecording> {
  const { salt, configured } = contentSalt(env);
  if (!configured) log('audit: SAFETY_CONTENT_SALT is not set: content hashes use a random per-process salt (they compare only within this process)');
  // A key that is configured but unusable stops the start: the operator asked for signed checkpoints.
  const signer: CheckpointSigner | undefined = config.audit.signing_key_file
    ? { key: loadSigningKey(config.audit.signing_key_file), everyRecords: config.audit.checkpoint_every_records, everySeconds: config.audit.checkpoint_every_s }
    : undefined;
  if (signer) log(`audit: signed checkpoints with key ${signer.key.keyId} every ${signer.everyRecords} records / ${signer.everySeconds}s, at rotation and shutdown`);
  else log('audit: no signing key (audit.signing_key_file): the hash chain shows partial edits, but a rewrite of the whole chain would pass `audit verify`; create one with `safety-gateway audit keygen --out DIR`');
  const audit = AuditLog.shared({
    dir: config.audit.dir,
    fsync: config.audit.fsync,
    fsyncIntervalMs: config.audit.fsync_interval_ms,
    maxFileBytes: config.audit.max_file_bytes,
    maxFileAgeMs: config.audit.max_file_age_s * 1000,
    warn: log,
    signer,
  });
  const problem = await audit.check();
  if (problem) log(`WARNING: ${problem}`);
  else log(`audit: appending to ${audit.dir} (fsync ${config.audit.fsync})`);

  let telemetry: TelemetryHandle | undefined;
  if (config.telemetry.enabled) {
    try {
      telemetry = acquireTelemetry(env, log);
    } catch (err) {
      // The audit log already holds its directory's lock: a failed start must give it back, or
      // the next start (a container restart) waits for a lock nobody holds.
      await audit.release();
      throw new Error(`telemetry (OTEL_* variables): ${(err as Error).message}`);
    }
    setEngineProviderName(config.telemetry.provider_name);
    log(telemetry.summary);
  }
  const telemetryRecorder = telemetry?.enabled ? new TelemetryRecorder(salt, { logs: telemetry.logs }) : undefined;
  const { per_source, total, max_sources, window_s } = config.audit.refusals;
  const recorder = new BoundedRefusalRecorder(new AuditRecorder(audit, telemetryRecorder, salt), { perSource: per_source, total, maxSources: max_sources }, window_s * 1000, log);
  return {
    recorder,
    readinessChecks: [() => audit.problem()],
    telemetry: !!telemetry?.enabled,
    async close() {
      // The open window's summaries go in before the shutdown checkpoint.
      await recorder.close();
      await audit.release();
      await telemetry?.release();
    },
  };
}

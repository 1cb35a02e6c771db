import type { DecisionRecorder, RejectionRecord, RequestRecord, StreamStart } from '../record/requestRecord';
import { captureContent } from '../telemetry/contentCapture';
import { recordAuditOutcome, type TelemetryRecorder } from '../telemetry/telemetryRecorder';
import { toAuditEntry } from './auditEntry';
import { AuditUnavailableError } from './auditErrors';
import { toRejectionEntry } from './rejectionEntry';
import { toStreamStartEntry } from './streamStartEntry';
import type { AuditLog } from './auditLog';

/**
 * The gateway's recorder: the audit log first (durable, or the request fails closed with 503
 * audit_unavailable), then telemetry (best effort, carrying the audit record's seq and hash so the
 * collector's copy anchors the local chain).
 */
export class AuditRecorder implements DecisionRecorder {
  constructor(
    private readonly audit: AuditLog | undefined,
    private readonly telemetry: TelemetryRecorder | undefined,
    private readonly salt: string,
  ) {}

  async record(record: RequestRecord): Promise<void> {
    const content = captureContent(record.content, record.contentCapture, this.salt);
    let position: { seq: number; hash: string } | undefined;
    if (this.audit) {
      try {
        position = await this.audit.append(toAuditEntry(record, content, this.salt));
      } catch (err) {
        recordAuditOutcome('failed');
        throw new AuditUnavailableError((err as Error)?.message ?? String(err));
      }
      recordAuditOutcome('written');
    }
    this.telemetry?.emit(record, content, position);
  }

  /** A stream about to send its first byte (its decision record comes when it ends). Throws AuditUnavailableError when it cannot be written. */
  async recordStreamStart(start: StreamStart): Promise<void> {
    if (!this.audit) return;
    try {
      await this.audit.append(toStreamStartEntry(start));
    } catch (err) {
      recordAuditOutcome('failed');
      throw new AuditUnavailableError((err as Error)?.message ?? String(err));
    }
    recordAuditOutcome('written');
  }

  /** A 401, 429 or invalid request, its own kind in the log. Throws AuditUnavailableError when it cannot be written. */
  async recordRejection(rejection: RejectionRecord): Promise<void> {
    let position: { seq: number; hash: string } | undefined;
    if (this.audit) {
      try {
        position = await this.audit.append(toRejectionEntry(rejection));
      } catch (err) {
        recordAuditOutcome('failed');
        throw new AuditUnavailableError((err as Error)?.message ?? String(err));
      }
      recordAuditOutcome('written');
    }
    this.telemetry?.emitRejection(rejection, position);
  }
}

import type { Verdict } from '../../guards/types';
import type { RuleOutcome } from '../../policies/evaluate';
import type { Action } from '../../policies/schema';
import { guardFault } from '../pipeline/guardFault';
import { recordedPath } from '../record/recordedPath';
import type { GuardPhase } from '../record/guardPhase';
import type { RequestRecord } from '../record/requestRecord';
import { captureText, type CapturedContent } from '../telemetry/contentCapture';
import { tokenCount } from '../telemetry/spans';

/**
 * One decision as the audit log keeps it: who, when, which guards with which scores, which rule of
 * which policy version decided, and what was done. Raw text appears only as the policy's content
 * capture allows (hashes by default). Field names are snake_case for jq and SQL readers.
 */
export interface AuditEntry {
  v: 1;
  kind: 'decision';
  /** The gateway's own id (the x-request-id it answered with). */
  request_id: string;
  /** The id the client sent, if any: a label for correlation, not unique. */
  client_request_id?: string;
  received_at: string;
  app: string;
  /** The API key that named the app (its id, never the key). */
  key_id?: string;
  /** W3C trace id of the request, to find its spans. */
  trace_id?: string;
  route: string;
  model?: string;
  stream: boolean;
  policy: { id: string; version: string };
  /** Where the time went: the whole request until its decision was recorded, the guard phases, the engine. */
  timings?: { total_ms: number; guards_ms: number; engine_ms?: number };
  /**
   * Final action of the request (the most severe enforced decision), or `error` when a guard
   * fault stopped it (503 guard_unavailable): no verdict was reached, nothing was blocked on content.
   */
  action: AuditAction;
  status: number;
  /** Set when the client had already received a 200 and part of the (checked) answer before `status` or a block ended it (a stream that failed, or was blocked in window mode, midway). */
  partial?: true;
  /** The answer reached the client unchecked although the policy has output rules (`streaming_off`: a stream under `streaming.mode: off`). */
  output_unchecked?: 'streaming_off';
  error?: { type: string; message: string };
  phases: AuditPhase[];
  engine?: { duration_ms: number; first_chunk_ms?: number; model?: string; finish_reasons: string[]; input_tokens?: number; output_tokens?: number };
  content: CapturedContent;
}

/** A decision's action in the audit log: the policy's, or `error` for a guard fault. */
export type AuditAction = Action | 'error';

export interface AuditPhase {
  direction: 'input' | 'output';
  choice?: number;
  /** `error`: every block in this phase came from a failed guard (on_error: block), none from a verdict. */
  action: AuditAction;
  deciding_rule?: string;
  reason: string;
  duration_ms: number;
  verdicts: AuditVerdict[];
  /** Input only: earlier assistant turns recognized as answers this gateway delivered (their paths), which jailbreak-score rules did not scan. */
  delivered_answers?: string[];
  /** Output: the same rules' verdicts on the answer's bookkeeping read apart (or on the answer, when the bookkeeping's decided); they did not decide. */
  other_readings?: AuditVerdict[];
}

export interface AuditVerdict {
  rule_id: string;
  guard: string;
  model: string;
  label: string;
  score: number;
  categories: string[];
  threshold?: number;
  mode?: 'enforce' | 'shadow';
  /** What the rule asked for. */
  rule_action?: Action;
  /** What was done (rule_action in enforce mode, allow in shadow mode). */
  action?: Action;
  latency_ms: number;
  segments_scanned: number;
  /** Fine-grained windows scored on top of the segments. */
  windows_scanned?: number;
  worst_path?: string;
  /** Offsets [start, end) of the worst fine window in the text at worst_path; never its text. */
  worst_span?: { start: number; end: number };
  /** Texts, and segments or windows, whose scores came from the guard's cache (same policy version) instead of a model run. */
  cache_hits?: { texts: number; segments: number };
  error_type?: string;
}

/** Pure: the audit entry of a request record, its texts already captured per the policy. */
export function toAuditEntry(record: RequestRecord, content: CapturedContent, salt: string): AuditEntry {
  const entry: AuditEntry = {
    v: 1,
    kind: 'decision',
    request_id: record.requestId,
    ...(record.clientRequestId ? { client_request_id: record.clientRequestId } : {}),
    received_at: record.receivedAt,
    app: record.app,
    ...(record.keyId ? { key_id: record.keyId } : {}),
    ...(record.traceId ? { trace_id: record.traceId } : {}),
    route: record.route,
    model: record.model,
    stream: record.stream,
    policy: { id: record.policy.id, version: record.policy.version },
    action: record.guardFault ? 'error' : record.action,
    status: record.status,
    ...(record.partial ? { partial: true as const } : {}),
    ...(record.outputUnchecked ? { output_unchecked: record.outputUnchecked } : {}),
    phases: [...(record.input ? [inputPhase(record.input, record.deliveredAnswers)] : []), ...record.outputs.map((o) => ({ ...toPhase(o), choice: o.choice }))],
    content,
  };
  if (record.durationMs !== undefined) {
    const phases = [...(record.input ? [record.input] : []), ...record.outputs];
    entry.timings = { total_ms: ms(record.durationMs), guards_ms: ms(phases.reduce((sum, p) => sum + p.durationMs, 0)), engine_ms: record.engine ? ms(record.engine.durationMs) : undefined };
  }
  if (record.error) {
    // The engine's own error text may quote the request: it goes through content capture too.
    const message = record.error.type === 'engine_rejected' ? captureText(record.error.message, content.capture, salt) : record.error.message;
    entry.error = { type: record.error.type, message };
  }
  if (record.engine) {
    const e = record.engine;
    entry.engine = {
      duration_ms: ms(e.durationMs),
      first_chunk_ms: e.firstByteMs === undefined ? undefined : ms(e.firstByteMs),
      model: e.model,
      finish_reasons: e.finishReasons,
      input_tokens: tokenCount(e.usage, 'prompt_tokens'),
      output_tokens: tokenCount(e.usage, 'completion_tokens'),
    };
  }
  return entry;
}

function inputPhase(phase: GuardPhase, deliveredAnswers: readonly string[] | undefined): AuditPhase {
  return deliveredAnswers?.length ? { ...toPhase(phase), delivered_answers: [...deliveredAnswers] } : toPhase(phase);
}

function toPhase(phase: GuardPhase): AuditPhase {
  const outcomes = new Map(phase.decision.outcomes.map((o) => [o.ruleId, o]));
  return {
    direction: phase.decision.direction,
    action: guardFault(phase.decision) ? 'error' : phase.decision.action,
    deciding_rule: phase.decision.decidingRule,
    reason: phase.decision.reason,
    duration_ms: ms(phase.durationMs),
    verdicts: phase.verdicts.map(({ ruleId, verdict }) => auditVerdict(ruleId, verdict, outcomes.get(ruleId))),
    // Their outcome is the rule's on another verdict: only what the guard said is kept.
    ...(phase.otherReadings?.length ? { other_readings: phase.otherReadings.map(({ ruleId, verdict }) => auditVerdict(ruleId, verdict, undefined)) } : {}),
  };
}

/** One verdict as recorded; `outcome`: what its rule did with it (none for an other reading). */
function auditVerdict(ruleId: string, verdict: Verdict, outcome: RuleOutcome | undefined): AuditVerdict {
  return {
    rule_id: ruleId,
    guard: verdict.guard,
    model: verdict.model,
    label: verdict.label,
    score: verdict.score,
    // What the rule acted on: a rule under the guard's unsafe cut also reads the categories safe texts leaned to.
    categories: outcome?.categories ?? verdict.categories,
    threshold: outcome?.threshold,
    mode: outcome?.mode,
    rule_action: outcome?.action,
    action: outcome?.effective,
    latency_ms: ms(verdict.latencyMs),
    segments_scanned: verdict.segmentsScanned,
    windows_scanned: verdict.windowsScanned,
    worst_path: recordedPath(verdict.worstPath),
    worst_span: verdict.worstSpan,
    cache_hits: verdict.cacheHits,
    error_type: verdict.error?.type,
  };
}

function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

import { context, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { logs, SeverityNumber, type LogAttributes } from '@opentelemetry/api-logs';
import type { Action } from '../../policies/schema';
import type { DecisionRecorder, RejectionRecord, RequestRecord } from '../record/requestRecord';
import { GATEWAY, GEN_AI, guardRunAction, outcomeAttributes, round, SECURITY, verdictAttributes } from './attributes';
import { captureContent, type CapturedContent } from './contentCapture';
import { instruments } from './metrics';
import { engineFailed, requestSpan, tokenCount } from './spans';
import { BoundedLabels } from './boundedLabels';

/** Where a decision sits in the durable audit log, so the collector's copy can be matched to it. */
export interface AuditPosition {
  seq: number;
  hash: string;
}

const LOGGER = 'safety-gateway';
const SEVERITY: Record<Action, { number: SeverityNumber; text: string }> = {
  allow: { number: SeverityNumber.INFO, text: 'INFO' },
  flag: { number: SeverityNumber.WARN, text: 'WARN' },
  block: { number: SeverityNumber.WARN, text: 'WARN' },
};

/**
 * Telemetry of one decision: a log record per guard verdict and one for the final decision (both
 * correlated by the request's trace and its request id), the decision's metrics, and the final
 * decision on the request span. Best effort by design: the OTel exporters may drop data when a
 * collector is down, which is why the audit log, not this, is the record compliance relies on.
 */
export class TelemetryRecorder implements DecisionRecorder {
  /** `logs: false` when no collector takes log records: only metrics and span attributes then. */
  constructor(
    private readonly salt: string,
    private readonly options: { logs: boolean } = { logs: true },
  ) {}

  async record(record: RequestRecord): Promise<void> {
    this.emit(record, captureContent(record.content, record.contentCapture, this.salt));
  }

  /** A 401, 429, invalid request (400, 413, 415) or policy_unavailable (503): one log record (metrics are counted where the refusal is reported). Never throws. */
  emitRejection(rejection: RejectionRecord, audit?: AuditPosition): void {
    if (!this.options.logs) return;
    try {
      const attributes: LogAttributes = {
        [GATEWAY.REQUEST_ID]: rejection.requestId,
        ...(rejection.clientRequestId ? { [GATEWAY.CLIENT_REQUEST_ID]: rejection.clientRequestId } : {}),
        ...(rejection.app ? { [GATEWAY.APP]: rejection.app } : {}),
        [GATEWAY.URL_PATH]: rejection.route,
        [GATEWAY.STATUS]: rejection.status,
        [GATEWAY.REJECTION_KIND]: rejection.kind,
        [GATEWAY.REJECTION_REASON]: rejection.reason,
        ...(rejection.param ? { [GATEWAY.REJECTION_PARAM]: rejection.param } : {}),
        ...(rejection.policyId ? { [SECURITY.POLICY_ID]: rejection.policyId } : {}),
        ...(rejection.limit ? { [GATEWAY.RATE_LIMIT_KIND]: rejection.limit.kind } : {}),
        ...(rejection.repeats ? { [GATEWAY.REJECTION_REPEATS]: rejection.repeats.count } : {}),
        ...(audit ? { [GATEWAY.AUDIT_SEQ]: audit.seq, [GATEWAY.AUDIT_HASH]: audit.hash } : {}),
      };
      logs.getLogger(LOGGER).emit({
        eventName: 'safety.rejection',
        severityNumber: SeverityNumber.WARN,
        severityText: 'WARN',
        body: `${rejection.repeats ? `${rejection.repeats.count} x ` : ''}${rejection.kind} (HTTP ${rejection.status}): ${rejection.reason}${rejection.param ? ` at ${rejection.param}` : ''}${rejection.policyId ? ` (policy ${rejection.policyId} not loaded)` : ''}${rejection.app ? ` for app ${rejection.app}` : ''}`,
        attributes,
        context: context.active(),
      });
    } catch {
      /* best effort, as for decisions */
    }
  }

  /** Never throws: telemetry must not fail a request. */
  emit(record: RequestRecord, content: CapturedContent, audit?: AuditPosition): void {
    try {
      if (this.options.logs) emitLogs(record, content, audit);
      recordMetrics(record);
      annotateRequestSpan(record, audit);
    } catch {
      /* a telemetry bug must not turn into a failed request; the audit log has the decision */
    }
  }
}

function requestAttributes(record: RequestRecord): Attributes {
  return {
    [GATEWAY.REQUEST_ID]: record.requestId,
    ...(record.clientRequestId ? { [GATEWAY.CLIENT_REQUEST_ID]: record.clientRequestId } : {}),
    [GATEWAY.APP]: record.app,
    [GATEWAY.HTTP_ROUTE]: record.route,
    [GATEWAY.POLICY_REF]: `${record.policy.id}@${record.policy.version}`,
    [SECURITY.POLICY_ID]: record.policy.id,
    [SECURITY.POLICY_VERSION]: record.policy.version,
    ...(record.model ? { [GEN_AI.REQUEST_MODEL]: record.model } : {}),
  };
}

function phases(record: RequestRecord) {
  return [...(record.input ? [{ phase: record.input, choice: undefined as number | undefined }] : []), ...record.outputs.map((o) => ({ phase: o, choice: o.choice }))];
}

/**
 * Verdict log records per request at most: a stream checked window by window has a phase per
 * window, and a completion of many prompts and choices has thousands; without a bound one request
 * filled the log exporter's queue and pushed out decision records, its own among them. The
 * decision record goes first; then the verdicts that blocked, failed, would have blocked (shadow)
 * or flagged, in that order of preference, before those that allowed; the rest are counted in one `safety.guard.verdicts_omitted`
 * record (the audit record keeps every verdict).
 */
export const MAX_VERDICT_LOG_RECORDS = 64;

function emitLogs(record: RequestRecord, content: CapturedContent, audit: AuditPosition | undefined): void {
  const logger = logs.getLogger(LOGGER);
  const ctx = context.active();
  const base = requestAttributes(record);
  emitDecisionLog(logger, ctx, base, record, content, audit);
  const entries = phases(record).flatMap(({ phase, choice }) =>
    phase.verdicts.map(({ ruleId, verdict }) => {
      const outcome = phase.decision.outcomes.find((o) => o.ruleId === ruleId);
      return { phase, choice, ruleId, verdict, outcome, action: outcome?.effective ?? 'allow' };
    }),
  );
  // Kept first: blocks, then guard errors, then shadow rules' would-be blocks (what a policy author
  // reads the log for), then flags, then the rest; each group in its order.
  const rank = (e: (typeof entries)[number]) =>
    e.action === 'block' ? 0 : e.verdict.error !== undefined ? 1 : (e.outcome?.action ?? 'allow') === 'block' ? 2 : e.action === 'flag' || e.outcome?.action === 'flag' ? 3 : 4;
  const shown =
    entries.length <= MAX_VERDICT_LOG_RECORDS
      ? entries
      : entries
          .map((e, i) => ({ e, i, r: rank(e) }))
          .sort((a, b) => a.r - b.r || a.i - b.i)
          .slice(0, MAX_VERDICT_LOG_RECORDS)
          .sort((a, b) => a.i - b.i)
          .map(({ e }) => e);
  for (const { phase, choice, ruleId, verdict, outcome, action } of shown) {
    logger.emit({
      eventName: 'safety.guard.verdict',
      severityNumber: SEVERITY[action].number,
      severityText: SEVERITY[action].text,
      body: `${phase.decision.direction} guard ${verdict.guard} (${verdict.model}): ${verdict.label} ${verdict.score.toFixed(4)}; rule ${ruleId} -> ${action}${outcome?.mode === 'shadow' ? ' (shadow)' : ''}`,
      attributes: {
        ...base,
        ...verdictAttributes(verdict, phase.decision.direction),
        ...(outcome ? outcomeAttributes(outcome, phase.decision.policy) : { [SECURITY.RULE_ID]: ruleId }),
        ...(choice !== undefined ? { [GATEWAY.CHOICE]: choice } : {}),
      } as LogAttributes,
      context: ctx,
    });
  }
  const omitted = entries.length - shown.length;
  if (omitted > 0) {
    logger.emit({
      eventName: 'safety.guard.verdicts_omitted',
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: `${omitted} more guard verdicts of this request are not logged one by one (at most ${MAX_VERDICT_LOG_RECORDS}); the audit record has them all`,
      attributes: { ...base, [GATEWAY.VERDICTS_OMITTED]: omitted } as LogAttributes,
      context: ctx,
    });
  }
}

/**
 * Captured text as the decision log exports it: at most this many characters per text, the rest
 * said in a marker (the audit record keeps it whole). Prompts near the context limit made one OTLP
 * batch larger than a collector takes (20 MiB over HTTP, 4 over gRPC by default: all of its records
 * dropped, other apps' included) and, with the collector away, the export queue held gigabytes.
 */
export const EXPORTED_TEXT_CHARS = 8192;
/** And at most this many in all per record and direction (a long chat resends every turn; the answer keeps its own share). */
export const EXPORTED_RECORD_CHARS = 32_768;

export function exportedText(text: string, limit = EXPORTED_TEXT_CHARS): string {
  if (text.length <= limit) return text;
  // Never half a surrogate pair (an exporter writes it as U+FFFD).
  const cut = limit > 0 && /[\uD800-\uDBFF]/.test(text[limit - 1]) ? limit - 1 : limit;
  return `${text.slice(0, cut)}[... ${text.length - cut} more characters in the audit record]`;
}

/** The record's captured texts as exported: each bounded, and all of them together. */
export function exportedContent(content: CapturedContent): Record<string, string[]> {
  const bounded = (texts: string[]): string[] => {
    let left = EXPORTED_RECORD_CHARS;
    const out: string[] = [];
    for (const [i, text] of texts.entries()) {
      // Once the share is spent, one line says how many more texts the audit record holds.
      if (left <= 0) {
        out.push(`[... ${texts.length - i} more texts in the audit record]`);
        break;
      }
      const limit = Math.min(EXPORTED_TEXT_CHARS, left);
      left -= Math.min(text.length, limit);
      out.push(exportedText(text, limit));
    }
    return out;
  };
  return { [SECURITY.CONTENT_INPUT]: bounded(content.input), [SECURITY.CONTENT_OUTPUT]: bounded(content.output) };
}

function emitDecisionLog(logger: ReturnType<typeof logs.getLogger>, ctx: ReturnType<typeof context.active>, base: Attributes, record: RequestRecord, content: CapturedContent, audit: AuditPosition | undefined): void {
  const deciding = decidingPhase(record);
  const shadow = phases(record).flatMap(({ phase }) => phase.decision.shadow.map((s) => s.ruleId));
  const attributes: LogAttributes = {
    ...base,
    [SECURITY.ACTION]: reportedAction(record),
    [SECURITY.MODE]: 'enforce',
    [GATEWAY.STATUS]: record.status,
    // The record's own total (the audit's timings.total_ms), not the time until this line was emitted after the audit write.
    [GATEWAY.LATENCY_MS]: round(record.durationMs ?? Date.now() - Date.parse(record.receivedAt)),
    [SECURITY.CONTENT_CAPTURE]: content.capture,
    ...exportedContent(content),
  } as LogAttributes;
  if (deciding?.decision.decidingRule) {
    attributes[SECURITY.RULE_ID] = deciding.decision.decidingRule;
    attributes[SECURITY.DIRECTION] = deciding.decision.direction;
    const outcome = deciding.decision.outcomes.find((o) => o.ruleId === deciding.decision.decidingRule);
    if (outcome) {
      attributes[SECURITY.GUARDRAIL_NAME] = outcome.guard;
      attributes[SECURITY.VERDICT_SCORE] = outcome.score;
      attributes[SECURITY.VERDICT_CATEGORIES] = outcome.categories;
    }
  }
  if (shadow.length) attributes[SECURITY.SHADOW_RULE_IDS] = [...new Set(shadow)];
  if (record.error) attributes[GATEWAY.ERROR_TYPE] = record.error.type;
  if (audit) {
    attributes[GATEWAY.AUDIT_SEQ] = audit.seq;
    attributes[GATEWAY.AUDIT_HASH] = audit.hash;
  }
  logger.emit({
    eventName: 'safety.decision',
    severityNumber: record.status >= 500 ? SeverityNumber.ERROR : SEVERITY[record.action].number,
    severityText: record.status >= 500 ? 'ERROR' : SEVERITY[record.action].text,
    body: `decision ${reportedAction(record)} (HTTP ${record.status})${deciding?.decision.decidingRule ? ` by rule ${deciding.decision.decidingRule}` : ''} under policy ${record.policy.id}@${record.policy.version}`,
    attributes,
    context: ctx,
  });
}

/** The phase whose decision set the request's final action (input first, then choices in order). */
function decidingPhase(record: RequestRecord) {
  return phases(record)
    .map((p) => p.phase)
    .find((p) => p.decision.action === record.action && p.decision.decidingRule);
}

function recordMetrics(record: RequestRecord): void {
  const m = instruments();
  // A guard fault is counted as an error, not as a block: no verdict was reached.
  m.requests.add(1, { [SECURITY.ACTION]: reportedAction(record), [GATEWAY.HTTP_STATUS]: record.status, [GATEWAY.HTTP_ROUTE]: record.route, [GATEWAY.APP]: record.app });
  for (const { phase } of phases(record)) {
    // Rules asking the same guard the same question share one run (one verdict object): one latency sample.
    const timed = new Set<object>();
    for (const { ruleId, verdict } of phase.verdicts) {
      const outcome = phase.decision.outcomes.find((o) => o.ruleId === ruleId);
      const guard = { [SECURITY.GUARDRAIL_NAME]: verdict.guard, [SECURITY.GUARDRAIL_MODEL]: verdict.model, [SECURITY.DIRECTION]: phase.decision.direction };
      m.guardVerdicts.add(1, { ...guard, [SECURITY.VERDICT_LABEL]: verdict.label, [SECURITY.RULE_ID]: ruleId, [SECURITY.ACTION]: outcome ? guardRunAction(outcome) : 'allow', [SECURITY.MODE]: outcome?.mode ?? 'enforce' });
      if (timed.has(verdict)) continue;
      timed.add(verdict);
      m.guardDuration.record(verdict.latencyMs / 1000, verdict.error ? { ...guard, [GATEWAY.ERROR_TYPE]: verdict.error.type } : guard);
    }
  }
  const engine = record.engine;
  if (!engine) return;
  // Chat and the Responses API are `chat` in the GenAI conventions; only legacy completions are `text_completion`.
  const operation = record.route.endsWith('/v1/completions') ? 'text_completion' : 'chat';
  const attrs = engineAttributes(operation, MODEL_LABELS.label(record.model), MODEL_LABELS.label(engine.model));
  m.engineDuration.record(engine.durationMs / 1000, engineFailed(record) ? { ...attrs.call, [GATEWAY.ERROR_TYPE]: record.error!.type } : attrs.call);
  if (engine.firstByteMs !== undefined) m.timeToFirstChunk.record(engine.firstByteMs / 1000, attrs.call);
  const input = tokenCount(engine.usage, 'prompt_tokens');
  const output = tokenCount(engine.usage, 'completion_tokens');
  if (input !== undefined) m.tokenUsage.record(input, attrs.input);
  if (output !== undefined) m.tokenUsage.record(output, attrs.output);
}

interface EngineAttributes {
  call: Attributes;
  input: Attributes;
  output: Attributes;
}

/** Model names as metric labels: at most 50 distinct ones per process (BoundedLabels). */
const MODEL_LABELS = new BoundedLabels(50);

/** Made once per operation and models, not per request (spread copies cost about a microsecond a request); bounded, as clients name the model. */
const ENGINE_ATTRIBUTES = new Map<string, EngineAttributes>();

function engineAttributes(operation: string, model: string | undefined, responseModel: string | undefined): EngineAttributes {
  // The model's length keeps any two (model, response model) pairs apart, whatever characters they hold.
  const requested = model ?? '';
  const key = `${operation}:${requested.length}:${requested}${responseModel ?? ''}`;
  let attrs = ENGINE_ATTRIBUTES.get(key);
  if (!attrs) {
    const call: Attributes = { [GEN_AI.OPERATION_NAME]: operation, ...(model ? { [GEN_AI.REQUEST_MODEL]: model } : {}), ...(responseModel ? { [GEN_AI.RESPONSE_MODEL]: responseModel } : {}) };
    // Shared by every later request with these values: frozen, so no reader can change another's.
    attrs = { call: Object.freeze(call), input: Object.freeze({ ...call, [GEN_AI.TOKEN_TYPE]: 'input' }), output: Object.freeze({ ...call, [GEN_AI.TOKEN_TYPE]: 'output' }) };
    if (ENGINE_ATTRIBUTES.size >= 256) ENGINE_ATTRIBUTES.clear();
    ENGINE_ATTRIBUTES.set(key, attrs);
  }
  return attrs;
}

function annotateRequestSpan(record: RequestRecord, audit: AuditPosition | undefined): void {
  const span = requestSpan();
  if (!span) return;
  span.setAttributes({ ...requestAttributes(record), [SECURITY.ACTION]: reportedAction(record), [GATEWAY.STATUS]: record.status });
  const deciding = decidingPhase(record);
  if (deciding?.decision.decidingRule) span.setAttribute(SECURITY.RULE_ID, deciding.decision.decidingRule);
  if (audit) span.setAttributes({ [GATEWAY.AUDIT_SEQ]: audit.seq, [GATEWAY.AUDIT_HASH]: audit.hash });
  if (record.error) {
    span.setAttribute(GATEWAY.ERROR_TYPE, record.error.type);
    if (record.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: record.error.type });
  }
}

/** For the audit recorder: a failed append, counted and marked on the request span. */
export function recordAuditOutcome(outcome: 'written' | 'failed'): void {
  try {
    instruments().auditRecords.add(1, { [GATEWAY.OUTCOME]: outcome });
    if (outcome === 'failed') requestSpan()?.setAttribute(GATEWAY.ERROR_TYPE, 'audit_unavailable');
  } catch {
    /* metrics are best effort */
  }
}

/**
 * The action as the audit, the metrics and x-safety-verdict report it: `error` when guard faults
 * alone stopped the request (a 503, not a content block), so outages are not counted as blocks.
 */
function reportedAction(record: RequestRecord): string {
  return record.guardFault ? 'error' : record.action;
}

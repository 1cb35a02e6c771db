import type { Attributes } from '@opentelemetry/api';
import type { Verdict } from '../../guards/types';
import type { RuleOutcome } from '../../policies/evaluate';
import { recordedPath } from '../record/recordedPath';

/**
 * Every attribute name the gateway puts on spans, log records and metrics, in one place, so a
 * dashboard or a compliance query has one list to read.
 *
 * Engine calls use the GenAI semantic conventions as published. Guard runs use `gen_ai.security.*`,
 * modelled on the proposed GenAI security/guardrail conventions: when those are ratified, this is
 * the only file that changes.
 */
export const GEN_AI = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  REQUEST_MODEL: 'gen_ai.request.model',
  RESPONSE_MODEL: 'gen_ai.response.model',
  REQUEST_STREAM: 'gen_ai.request.stream',
  INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  FINISH_REASONS: 'gen_ai.response.finish_reasons',
  RESPONSE_ID: 'gen_ai.response.id',
  REQUEST_MAX_TOKENS: 'gen_ai.request.max_tokens',
  REQUEST_TEMPERATURE: 'gen_ai.request.temperature',
  REQUEST_TOP_P: 'gen_ai.request.top_p',
  TOKEN_TYPE: 'gen_ai.token.type',
  /** The engine upstream that answered (general semantic conventions, recommended on GenAI client spans). */
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
} as const;

/** Verdict attributes of one guard run and of the decision built from it. */
export const SECURITY = {
  GUARDRAIL_NAME: 'gen_ai.security.guardrail.name',
  GUARDRAIL_MODEL: 'gen_ai.security.guardrail.model',
  DIRECTION: 'gen_ai.security.direction',
  VERDICT_LABEL: 'gen_ai.security.verdict.label',
  VERDICT_SCORE: 'gen_ai.security.verdict.score',
  VERDICT_CATEGORIES: 'gen_ai.security.verdict.categories',
  SEGMENTS_SCANNED: 'gen_ai.security.verdict.segments_scanned',
  WINDOWS_SCANNED: 'gen_ai.security.verdict.windows_scanned',
  WORST_SPAN: 'gen_ai.security.verdict.worst_span',
  /** Where the worst-scored text sits (`messages[3].content#spaced`), names the client chose starred: ../record/recordedPath.ts. */
  WORST_PATH: 'gen_ai.security.verdict.worst_path',
  LATENCY_MS: 'gen_ai.security.guardrail.latency_ms',
  /** What happened: the rule's action in enforce mode, `allow` in shadow mode. */
  ACTION: 'gen_ai.security.action',
  /** What the rule asked for (differs from ACTION only in shadow mode). */
  RULE_ACTION: 'gen_ai.security.rule.action',
  RULE_ID: 'gen_ai.security.rule.id',
  RULE_THRESHOLD: 'gen_ai.security.rule.threshold',
  MODE: 'gen_ai.security.mode',
  POLICY_ID: 'gen_ai.security.policy.id',
  POLICY_VERSION: 'gen_ai.security.policy.version',
  ERROR_TYPE: 'gen_ai.security.error.type',
  /** Rules in shadow mode that would have flagged or blocked. */
  SHADOW_RULE_IDS: 'gen_ai.security.shadow.rule_ids',
  /** Content (hashes, redacted or full text, as the policy's content_capture says). */
  CONTENT_CAPTURE: 'gen_ai.security.content.capture',
  CONTENT_INPUT: 'gen_ai.security.content.input',
  CONTENT_OUTPUT: 'gen_ai.security.content.output',
} as const;

/** Request-level attributes: who and where, for correlation. */
export const GATEWAY = {
  REQUEST_ID: 'safety.request.id',
  /** The id the client sent (x-client-request-id or x-request-id): a label for correlation, never the gateway's id. */
  CLIENT_REQUEST_ID: 'safety.client_request.id',
  APP: 'safety.app',
  /** `<policy id>@<version>`, as in the x-safety-policy header. */
  POLICY_REF: 'safety.policy',
  HTTP_ROUTE: 'http.route',
  HTTP_METHOD: 'http.request.method',
  HTTP_STATUS: 'http.response.status_code',
  URL_PATH: 'url.path',
  ERROR_TYPE: 'error.type',
  AUDIT_SEQ: 'safety.audit.seq',
  AUDIT_HASH: 'safety.audit.hash',
  RATE_LIMIT_KIND: 'safety.rate_limit.kind',
  /** Why a request was refused before any policy ran (401 missing_key / invalid_key; 429 requests_per_minute, ...; 400 the error code: invalid_json, unsupported_parameter, ...). */
  REJECTION_REASON: 'safety.rejection.reason',
  /** The decision type of a refusal: unauthenticated, rate_limited, invalid_request or policy_unavailable. */
  REJECTION_KIND: 'safety.rejection.kind',
  /** An invalid_request's offending member (`chat_template`, `messages.0.role`): a path, never a value. */
  REJECTION_PARAM: 'safety.rejection.param',
  /** A summary record of a refusal flood (audit.refusals): how many refusals it stands for. */
  REJECTION_REPEATS: 'safety.rejection.repeats',
  OUTCOME: 'safety.outcome',
  LATENCY_MS: 'safety.latency_ms',
  STATUS: 'safety.status',
  CHOICE: 'safety.choice',
  /** safety.guard.verdicts_omitted: verdicts of the request past the per-request bound of verdict log records. */
  VERDICTS_OMITTED: 'safety.verdicts.omitted',
  /** Whether the client asked for a streamed answer. */
  STREAM: 'safety.stream',
} as const;

/** Pure: the attributes of a guard's verdict (no rule yet: several rules may share one run). */
export function verdictAttributes(verdict: Verdict, direction: string): Attributes {
  const attributes: Attributes = {
    [SECURITY.GUARDRAIL_NAME]: verdict.guard,
    [SECURITY.GUARDRAIL_MODEL]: verdict.model,
    [SECURITY.DIRECTION]: direction,
    [SECURITY.VERDICT_LABEL]: verdict.label,
    [SECURITY.VERDICT_SCORE]: verdict.score,
    [SECURITY.VERDICT_CATEGORIES]: verdict.categories,
    [SECURITY.SEGMENTS_SCANNED]: verdict.segmentsScanned,
    [SECURITY.LATENCY_MS]: round(verdict.latencyMs),
  };
  if (verdict.windowsScanned) attributes[SECURITY.WINDOWS_SCANNED] = verdict.windowsScanned;
  // offsets only, never the text: [start, end) characters of the worst fine window
  if (verdict.worstSpan) attributes[SECURITY.WORST_SPAN] = [verdict.worstSpan.start, verdict.worstSpan.end];
  const worstPath = recordedPath(verdict.worstPath);
  if (worstPath !== undefined) attributes[SECURITY.WORST_PATH] = worstPath;
  if (verdict.error) attributes[SECURITY.ERROR_TYPE] = verdict.error.type;
  return attributes;
}

/** Pure: what one rule made of a verdict. */
export function outcomeAttributes(outcome: RuleOutcome, policy: { id: string; version: string }): Attributes {
  const attributes: Attributes = {
    [SECURITY.RULE_ID]: outcome.ruleId,
    [SECURITY.RULE_ACTION]: outcome.action,
    [SECURITY.RULE_THRESHOLD]: outcome.threshold,
    [SECURITY.ACTION]: guardRunAction(outcome),
    [SECURITY.MODE]: outcome.mode,
    [SECURITY.POLICY_ID]: policy.id,
    [SECURITY.POLICY_VERSION]: policy.version,
  };
  if (outcome.errorType) attributes[SECURITY.ERROR_TYPE] = outcome.errorType;
  return attributes;
}

/**
 * Pure: a rule's action as a guard run's span and the guard verdict metric report it: `error` when
 * the guard reached no verdict (whatever its `on_error` made of it), as the request's own action
 * reads `error` when guard faults stopped it; so a dashboard of blocks by rule counts no outage.
 */
export function guardRunAction(outcome: RuleOutcome): string {
  return outcome.errorType ? 'error' : outcome.effective;
}

const SEVERITY = { allow: 0, flag: 1, block: 2 } as const;

/**
 * Pure: of several rules sharing one guard run, the outcome that speaks for the run: the most
 * severe requested action (shadow rules included, so a shadow block is visible on the span).
 */
export function leadingOutcome(outcomes: readonly RuleOutcome[]): RuleOutcome | undefined {
  let lead: RuleOutcome | undefined;
  for (const o of outcomes) {
    if (!lead || SEVERITY[o.effective] > SEVERITY[lead.effective] || (SEVERITY[o.effective] === SEVERITY[lead.effective] && SEVERITY[o.action] > SEVERITY[lead.action])) lead = o;
  }
  return lead;
}

export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

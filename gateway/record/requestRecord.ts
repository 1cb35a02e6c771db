import type { Action } from '../../policies/schema';
import type { GuardPhase } from './guardPhase';

/** Everything a compliance reviewer needs about one request, without its content. */
export interface RequestRecord {
  /** The gateway's own id. */
  requestId: string;
  /** The id the client sent, if any: for correlation only, never trusted as unique. */
  clientRequestId?: string;
  receivedAt: string;
  app: string;
  /** The API key that named the app (absent without keys). */
  keyId?: string;
  /** The W3C trace id the request ran under (its own span, or the client's traceparent), when there is one. */
  traceId?: string;
  /** Time from arrival to the decision being recorded, in ms. */
  durationMs?: number;
  route: string;
  model?: string;
  stream: boolean;
  policy: { id: string; version: string };
  input?: GuardPhase;
  /** Earlier assistant turns recognized as answers this gateway delivered (paths): left out of jailbreak-score rules (pipeline/deliveredAnswers.ts). */
  deliveredAnswers?: string[];
  /** One output phase per checked choice. */
  outputs: (GuardPhase & { choice: number })[];
  /** The answer reached the client unchecked although the policy has output rules: a stream under `streaming.mode: off`. */
  outputUnchecked?: 'streaming_off';
  /** Final action of the request: the most severe enforced decision. */
  action: Action;
  /** Set when a guard error or timeout (under on_error: block) stopped the request: a fault, not a verdict (503 guard_unavailable). */
  guardFault?: { guards: string[]; rules: string[]; errorTypes: string[] };
  status: number;
  /** The client had already received the 200 and part of the (checked) answer when `status` or a block ended it: a stream that failed, or was blocked (window mode), midway. */
  partial?: boolean;
  error?: { type: string; message: string };
  /** firstByteMs: to the first streamed chunk (streams only); model: the model the engine says answered; id: the engine's completion id. */
  engine?: { durationMs: number; firstByteMs?: number; id?: string; model?: string; usage?: Record<string, unknown>; finishReasons: string[] };
  /** The policy's telemetry.content_capture for this request: what of `content` may be recorded (default none). */
  contentCapture?: 'none' | 'redacted' | 'full';
  /** Texts seen (for content capture policies); never written unless a sink is told to. */
  content?: { input: string[]; output: string[] };
}

/**
 * A request refused before any policy ran: a 401 (no or unknown key), a 429 (a rate limit), or,
 * on a guarded route, a request the gateway would not start a guarded call for (400, 413, 415:
 * invalid JSON, a body that fails its schema, a field the gateway cannot check, a body over a
 * hardening limit), or a passthrough path refused as invalid_path (400: it needed normalising and
 * then reached a guarded route or left /v1/), or a guarded route's 503 policy_unavailable (the
 * key assigns a policy id the gateway has not loaded). Its own decision type in the audit log, so
 * refusals are never silent.
 */
export interface RejectionRecord {
  kind: RejectionKind;
  requestId: string;
  clientRequestId?: string;
  receivedAt: string;
  /** The app, when a valid key named it (429, invalid_request, policy_unavailable); absent for a 401. */
  app?: string;
  keyId?: string;
  /** Client address as the gateway sees it (trust_proxy applies). */
  client?: string;
  method: string;
  /**
   * The path asked for, as sent, without its query string or an absolute-form target's scheme and
   * authority (bounded to 200); an invalid_request or policy_unavailable on a guarded route names the route's pattern.
   */
  route: string;
  status: RejectionStatus;
  /** invalid_request after the guarded route resolved its policy (control tokens refused by its settings): that policy's id and version. */
  policy?: { id: string; version: string };
  /**
   * missing_key | invalid_key (401); requests_per_minute | tokens_per_minute | concurrent_requests |
   * request_exceeds_tpm (429); the error code the client got (invalid_request: invalid_json,
   * invalid_request, unsupported_parameter, json_too_deep, request_too_large, ...; invalid_path for
   * a passthrough path that needed normalising and reached a guarded route or left /v1/);
   * policy_unavailable (503).
   */
  reason: string;
  /** invalid_request only: the request member the error names (`chat_template`, `messages.0.role`), never a value. */
  param?: string;
  /** policy_unavailable only: the policy id the key assigns (operator config, not request content), bounded to 100. */
  policyId?: string;
  /** 429 only: which limit, its size, and what the request asked for. */
  limit?: { kind: 'requests' | 'tokens' | 'concurrency'; limit: number; requested: number };
  /**
   * A summary record (a flood of refusals past `audit.refusals`' bounds): it stands for `count`
   * refusals of this kind, status and reason from one source, the first of which its other fields
   * describe, up to `lastAt` / `lastRequestId`; `otherSources`: from sources past `max_sources`, none named.
   */
  repeats?: { count: number; lastAt: string; lastRequestId: string; otherSources?: true };
}

export type RejectionKind = 'unauthenticated' | 'rate_limited' | 'invalid_request' | 'policy_unavailable';
/** 401 unauthenticated, 429 rate_limited; 400, 408 (body too slow), 413 (body too large) or 415 (not JSON) invalid_request; 503 policy_unavailable. */
/** 499: the client hung up while its body was being read (503 when shutdown cut it): nothing reached a guard. */
export type RejectionStatus = 401 | 429 | 400 | 408 | 413 | 415 | 499 | 503;

/**
 * A streamed answer about to send its first byte before its decision record exists (window and
 * off modes write that record when the stream ends): who asked, under which policy, what the input
 * check decided. A start with no decision record after it is a stream still open, or one a crash cut.
 */
export type StreamStart = Pick<RequestRecord, 'requestId' | 'clientRequestId' | 'receivedAt' | 'app' | 'keyId' | 'traceId' | 'route' | 'model' | 'policy'> & {
  /** The input phase's action (allow or flag: a blocked input sends no stream). */
  inputAction: Action;
};

/** Pure: a request's stream start, from its record so far. */
export function streamStartOf(r: RequestRecord): StreamStart {
  return {
    requestId: r.requestId,
    ...(r.clientRequestId ? { clientRequestId: r.clientRequestId } : {}),
    receivedAt: r.receivedAt,
    app: r.app,
    ...(r.keyId ? { keyId: r.keyId } : {}),
    ...(r.traceId ? { traceId: r.traceId } : {}),
    route: r.route,
    ...(r.model ? { model: r.model } : {}),
    policy: { ...r.policy },
    inputAction: r.input?.decision.action ?? 'allow',
  };
}

/** Where decisions go: the audit log, telemetry. `record` resolves once the record is durable. */
export interface DecisionRecorder {
  record(record: RequestRecord): Promise<void>;
  /** Durable before a stream's first byte (fails closed like a decision); optional for recorders that only take decisions. */
  recordStreamStart?(start: StreamStart): Promise<void>;
  /** 401s, 429s, invalid requests and policy_unavailable on the guarded routes; optional for recorders that only take guarded decisions. */
  recordRejection?(rejection: RejectionRecord): Promise<void>;
}

export const noopRecorder: DecisionRecorder = { record: async () => undefined };

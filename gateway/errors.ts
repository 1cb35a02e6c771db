import type { ServerResponse } from 'node:http';
import { sendJson } from './routes/httpResponses';

/** An error the client sees, in OpenAI's shape. Messages never carry user content, hostnames or keys. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly param: string | null = null,
    /** Extra top-level members of the error body (e.g. the `safety` object of a block). */
    readonly extra: Record<string, unknown> = {},
    /** Response headers that belong to this error (e.g. `retry-after`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: Record<string, unknown> } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code, ...this.extra } };
  }
}

/**
 * A refused member the gateway does not know: its name is the client's own text (it could hold a
 * prompt or a secret), so the client is told it but the audit log and telemetry never keep it.
 */
export class UnknownFieldError extends ApiError {
  constructor(error: ApiError) {
    super(error.status, error.message, error.type, error.code, error.param);
    this.name = 'UnknownFieldError';
  }
}

/**
 * A field the policy refuses by name (`request_fields.refuse`): its name is the operator's word, so
 * the record keeps it (access/recordedParam.ts keeps only names the request schemas declare).
 */
export class PolicyRefusedFieldError extends ApiError {
  constructor(error: ApiError) {
    super(error.status, error.message, error.type, error.code, error.param);
    this.name = 'PolicyRefusedFieldError';
  }
}

/**
 * A passthrough path that needed normalising and then reaches a guarded route or leaves /v1/ (400
 * invalid_path): a probe for a way around the guards, audited as an invalid_request refusal
 * (access/rejections.ts). A passthrough's 404 for an unlisted route is a plain ApiError, not audited.
 */
export class InvalidPathError extends ApiError {
  constructor(message: string) {
    super(400, message, 'invalid_request_error', 'invalid_path');
    this.name = 'InvalidPathError';
  }
}

/**
 * An app assigned a policy the gateway has not loaded (503 policy_unavailable): fail closed, never
 * fall back to another policy. Audited as a policy_unavailable refusal (access/rejections.ts).
 */
export class UnknownPolicyError extends ApiError {
  constructor(readonly policyId: string) {
    super(503, `This app is assigned the policy \`${policyId.slice(0, 100)}\`, which this gateway has not loaded. The request was not forwarded; ask the gateway operator to check the policy set.`, 'api_error', 'policy_unavailable');
    this.name = 'UnknownPolicyError';
  }
}

/**
 * `x-should-retry: false`: the openai SDKs retry 408, 409, 429 and every 5xx twice on their own
 * unless told not to. A retry that cannot succeed soon, or that only runs a whole generation of
 * the engine again (a timeout, a failure after the engine answered), is left to the app.
 */
export const NO_AUTOMATIC_RETRY: Readonly<Record<string, string>> = Object.freeze({ 'x-should-retry': 'false' });

export const badRequest = (message: string, param: string | null = null, code: string | null = 'invalid_request') => new ApiError(400, message, 'invalid_request_error', code, param);
export const notFound = (message: string) => new ApiError(404, message, 'invalid_request_error', 'not_found');

export function sendError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendJson(res, error.status, error.body());
}

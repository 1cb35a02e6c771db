import { ApiError, NO_AUTOMATIC_RETRY } from '../errors';

/**
 * The audit log could not take a decision. The gateway fails closed: the client gets this 503
 * (OpenAI's error shape, code `audit_unavailable`) instead of the answer, and /readyz says why.
 */
export class AuditUnavailableError extends ApiError {
  constructor(readonly reason: string) {
    super(503, 'The gateway cannot record this decision in its audit log, so it does not answer (fail closed). Try again later; operators: see /readyz.', 'api_error', 'audit_unavailable', null, {}, NO_AUTOMATIC_RETRY);
    this.name = 'AuditUnavailableError';
  }
}

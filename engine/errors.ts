/** Why an engine call failed, in terms the gateway maps to an HTTP status. */
export type EngineFailure =
  | 'unreachable' // connection refused, DNS, reset before an answer: 503
  | 'timeout' // connect, first byte, idle or total timeout: 504
  | 'bad_gateway' // the engine answered 5xx or something that is not OpenAI-shaped: 502
  | 'aborted'; // our own client went away

export class EngineError extends Error {
  constructor(
    readonly failure: EngineFailure,
    message: string,
    /** The engine's own status, when it answered. */
    readonly upstreamStatus?: number,
    /** For a timeout, when it struck: before a connection (`connect`, nothing sent) or after the request went out. */
    readonly stage?: TimeoutStage,
    /** An overloaded engine's own `Retry-After` (seconds), passed on to the client. */
    readonly retryAfterSeconds?: number,
    /**
     * A `bad_gateway` answer whose connection broke mid-answer: a pod restart, an OOM kill, a proxy's
     * cut; unlike a malformed answer (or a stream that ended cleanly without its end, which an
     * engine ignoring `stream: true` does every time), not bound to happen again.
     */
    readonly cut?: boolean,
    /** The connection's own error code (node's or undici's: `ECONNREFUSED`, `UND_ERR_SOCKET`), never the engine's words. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export type TimeoutStage = 'connect' | 'first_byte' | 'idle' | 'total';

/** An answer the engine cut short (EngineError.cut). */
export function answerCut(message: string, code?: string): EngineError {
  return new EngineError('bad_gateway', message, undefined, undefined, undefined, true, code);
}

/** Error codes as node and undici name them: an identifier, nothing an engine writes. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,40}$/;

/**
 * Pure: a failure in words from a fixed vocabulary (the engine's HTTP status, a connection's error
 * code, a timeout's stage), for records and the operator log: never the failure's message, which
 * can carry the engine's own error text or member names an engine chose.
 */
export function failureCause(err: EngineError): string {
  if (err.upstreamStatus !== undefined) return `engine HTTP ${err.upstreamStatus}`;
  const code = err.code !== undefined && ERROR_CODE.test(err.code) ? `: ${err.code}` : '';
  switch (err.failure) {
    case 'unreachable':
      return `unreachable${code}`;
    case 'timeout':
      return `timeout${err.stage ? `: ${err.stage}` : ''}`;
    case 'bad_gateway':
      return err.cut ? `connection broken mid-answer${code}` : 'an answer the gateway cannot read';
    case 'aborted':
      return 'aborted';
  }
}

/** Classifies a low-level error from undici / node:net without leaking hostnames into messages. */
export function classifyEngineError(err: unknown, phase: string): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as { code?: string; name?: string; cause?: { code?: string; name?: string } };
  const code = e?.code ?? e?.cause?.code;
  const name = e?.name ?? e?.cause?.name;
  if (name === 'AbortError' && code !== 'UND_ERR_ABORTED') return new EngineError('aborted', 'request aborted');
  if (name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return new EngineError('timeout', `the engine did not answer in time (${timeoutKind(code, phase)})`, undefined, timeoutStage(code));
  }
  if (code === 'UND_ERR_ABORTED') return new EngineError('aborted', 'request aborted');
  // Once the engine has answered, a broken connection is a failed answer (502), not an unreachable engine.
  if (phase === 'stream') return answerCut(`the engine connection broke mid-answer (${code ?? 'reset'})`, code);
  return new EngineError('unreachable', `the engine is unreachable (${code ?? 'connection failed'})`, undefined, undefined, undefined, undefined, code);
}

function timeoutStage(code: string | undefined): TimeoutStage {
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'first_byte';
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'idle';
  return 'total';
}

function timeoutKind(code: string | undefined, phase: string): string {
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'first-byte timeout';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'idle timeout between chunks';
    default:
      return `${phase} timeout`;
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { contextOf } from '../../pipeline/requestContext';

/**
 * Requests node's parser answered itself while their body was still being read (a slow body's
 * 408): the body read then fails as aborted, and the record must say what the client got.
 */
const answeredByParser = new WeakMap<ServerResponse, { status: number; code: string }>();

/** What the parser answered this request, when it did (see answeredByParser). */
export function parserAnswer(res: ServerResponse): { status: number; code: string } | undefined {
  return answeredByParser.get(res);
}

/**
 * Errors node's HTTP parser raises before express sees a request (oversized head, slow-loris
 * timeouts, garbage) answered in OpenAI's error shape instead of node's bare status line. Nothing
 * of the request is echoed.
 */
export function clientErrorResponse(code: string | undefined): { status: number; reason: string; errorCode: string; body: string } {
  const [status, reason, errorCode, message] =
    code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are larger than the gateway accepts.']
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'The request was not received in time.']
        : [400, 'Bad Request', 'bad_request', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: errorCode } });
  return { status: status as number, reason: reason as string, errorCode: errorCode as string, body };
}

/** Connections whose bad pipelined request is answered once the answer before it went out. */
const answeringAfterPending = new WeakSet<Socket>();

/** Handler for the server's `clientError` event. */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
  // Pipelining: the request before the bad one was read whole and is still being answered. The
  // error is the next request's: that answer goes out first, then the error, under no request's id.
  if (err.code !== 'ECONNRESET' && pending && (pending as ServerResponse & { req?: IncomingMessage }).req?.complete) {
    // The parser stays in error and raises this again on every later chunk: one answer, once.
    if (answeringAfterPending.has(socket)) return;
    answeringAfterPending.add(socket);
    const after = () => {
      if (!socket.writable) return void socket.destroy();
      const { status, reason, body } = clientErrorResponse(err.code);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    if (pending.writableFinished) after();
    else pending.once('finish', after);
    return;
  }
  // A connection reset has nobody to answer; a response already under way must not get a second one.
  // Nor does a client that closed its side halfway through a request's body (EOF after its head was
  // read): it hung up, and the body read records it so (499 client_closed), not as a 400 nobody
  // received. EOF inside the head still gets its 400 (no request to record).
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  const midBody = err.code === 'HPE_INVALID_EOF_STATE' && (socket as Socket & { _httpMessage?: unknown })._httpMessage != null; // null between keep-alive requests
  if (err.code === 'ECONNRESET' || midBody || !socket.writable || inFlight) {
    socket.destroy();
    return;
  }
  const { status, reason, errorCode, body } = clientErrorResponse(err.code);
  // A request whose head was read (a slow body): its id goes out with the answer, and its record says the same status.
  const requestId = pending ? contextOf(pending)?.requestId : undefined;
  if (pending && requestId) answeredByParser.set(pending, { status, code: errorCode });
  const idHeader = requestId ? `x-request-id: ${requestId}\r\n` : '';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${idHeader}connection: close\r\n\r\n${body}`);
}

import type { Socket } from 'node:net';

/**
 * Errors node's HTTP parser raises before express sees a request (oversized head, slow-loris
 * timeouts, garbage) answered in OpenAI's error shape instead of node's bare status line. Nothing
 * of the request is echoed.
 */
export function clientErrorResponse(code: string | undefined): { status: number; reason: string; body: string } {
  const [status, reason, errorCode, message] =
    code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are larger than the gateway accepts.']
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'request_timeout', 'The request was not received in time.']
        : [400, 'Bad Request', 'bad_request', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: errorCode } });
  return { status: status as number, reason: reason as string, body };
}

/** Handler for the server's `clientError` event. */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A connection reset has nobody to answer; a response already under way must not get a second one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight) {
    socket.destroy();
    return;
  }
  const { status, reason, body } = clientErrorResponse(err.code);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

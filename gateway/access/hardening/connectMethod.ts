import type { Server } from 'node:http';

/**
 * CONNECT (a proxy tunnel) is no request this gateway serves: node hands it to the server's
 * `connect` event, and without a listener it closes the socket with no answer at all. Answered
 * here in OpenAI's error shape, as every other refusal is.
 */
export function refuseConnect(server: Server): void {
  server.on('connect', (_req, socket) => {
    const body = JSON.stringify({ error: { message: 'CONNECT is not supported: this is an API gateway, not a proxy.', type: 'invalid_request_error', param: null, code: 'method_not_allowed' } });
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nallow: GET, HEAD, POST\r\nconnection: close\r\n\r\n${body}`);
  });
}

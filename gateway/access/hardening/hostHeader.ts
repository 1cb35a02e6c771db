import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * HTTP/1.1 requires a Host header. Node refuses a request without one with a bare 400 and no
 * body when `requireHostHeader` is on; the server turns that off so the refusal is OpenAI-shaped
 * like every other (clientErrors.ts). HTTP/1.0 requests may omit it.
 * Returns true when the request was answered here.
 */
export function refuseMissingHost(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.host !== undefined || req.httpVersion === '1.0') return false;
  const body = JSON.stringify({
    error: { message: 'The request has no Host header, which HTTP/1.1 requires.', type: 'invalid_request_error', param: null, code: 'missing_host' },
  });
  res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
  return true;
}

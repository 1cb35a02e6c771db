import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from '../../errors';

/**
 * HTTP/1.1 requires a Host header. Node refuses a request without one with a bare 400 and no
 * body when `requireHostHeader` is on; the server turns that off so the refusal is OpenAI-shaped
 * like every other (clientErrors.ts), and comes from the app: the answer carries `x-request-id`,
 * and on a guarded route it is audited as every invalid request is. HTTP/1.0 requests may omit it.
 */
export function requireHost(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void {
  if (req.headers.host !== undefined || req.httpVersion === '1.0') return next();
  // A malformed head: the connection is not reused, as node would not.
  res.setHeader('connection', 'close');
  next(badRequest('The request has no Host header, which HTTP/1.1 requires.', null, 'missing_host'));
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from '../../errors';

/**
 * A request member named `__proto__` is refused (400). JSON.parse keeps it as an ordinary member
 * and the engine reads it (vLLM keeps unknown tool members and its Llama 3.1 template writes each
 * tool whole into the prompt), but the request schemas drop it, so no guard would read its text.
 * Only bodies whose bytes could spell the name (literally or through \u escapes) are walked.
 */
const candidates = new WeakSet<IncomingMessage>();

/** express.json `verify` step: notes a body that could hold the member. */
export function noteProtoCandidate(req: IncomingMessage, buf: Buffer): void {
  if (buf.includes('proto') || buf.includes('\\u')) candidates.add(req);
}

/** After the body is parsed: 400 naming the first `__proto__` member's path. */
export function refuseProtoMembers(req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void {
  if (!candidates.has(req)) return next();
  const at = protoMemberPath((req as { body?: unknown }).body, '');
  if (at === undefined) return next();
  next(badRequest(`The request has a member named __proto__ (at ${at || 'the top level'}), which the gateway cannot check; remove it.`, at || null));
}

/** Pure: where the first own `__proto__` member is (`tools[0].function`), or undefined. */
export function protoMemberPath(value: unknown, at: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = protoMemberPath(value[i], `${at}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return at;
  for (const [key, child] of Object.entries(value)) {
    const found = protoMemberPath(child, at ? `${at}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Who may read the review page. With an admin key (separate from app keys): HTTP Basic with the key
 * as password (browsers ask for it), or `Authorization: Bearer <key>` for scripts. Without one:
 * loopback clients only.
 */
export const REALM = 'safety-gateway audit review';

/** Pure: does this Authorization header carry the admin key? Compared in constant time. */
export function presentsAdminKey(authorization: string | undefined, adminKey: string): boolean {
  if (!authorization) return false;
  let presented: string | undefined;
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization);
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization);
  if (bearer) presented = bearer[1].trim();
  else if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    presented = colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(adminKey).digest();
  return timingSafeEqual(a, b);
}

/** Pure: is this socket address this machine? */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^127\./.test(address) || /^::ffff:127\./i.test(address);
}

export function reviewAccess(adminKey: string | undefined, deny: (res: Response, status: 401 | 403, message: string) => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (adminKey) {
      if (presentsAdminKey(req.header('authorization'), adminKey)) return next();
      res.setHeader('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`);
      return deny(res, 401, 'The review page needs the admin key: give it as the password (any user name), or as Authorization: Bearer <key>. App API keys do not open it.');
    }
    // The socket's own address, never X-Forwarded-For: a header cannot make a remote client local.
    if (isLoopbackAddress(req.socket.remoteAddress)) return next();
    return deny(res, 403, 'No admin key is configured, so the review page is served to this machine only.');
  };
}

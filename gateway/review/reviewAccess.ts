import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Who may read the review page. With an admin key (separate from app keys): HTTP Basic with the key
 * as password (browsers ask for it), or `Authorization: Bearer <key>` for scripts. Without one:
 * loopback clients only, asking for a loopback host name, not through a proxy, not from another site.
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

/** Pure: does a Host header name this machine (localhost, 127.x.x.x or [::1], any port)? */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return /^localhost$/i.test(name) || /^127(?:\.\d{1,3}){3}$/.test(name) || name === '[::1]';
}

/**
 * Pure: why a keyless (loopback-only) request is refused, or undefined. A loopback socket is not
 * enough: a page on another site can reach 127.0.0.1 by re-pointing its own name there (DNS
 * rebinding: the Host header then names that site), and a reverse proxy on this machine makes
 * every client look local (it adds Forwarded / X-Forwarded-For / Via).
 */
/**
 * Headers a reverse proxy or CDN adds (the standard one, the de-facto ones, nginx's and common
 * CDNs'). A proxy configured to add none cannot be told from a local client: that is why a proxied
 * page needs review.admin_key (README).
 */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip', 'x-original-uri', 'x-original-url', 'true-client-ip', 'cf-connecting-ip', 'fastly-client-ip', 'x-client-ip', 'x-cluster-client-ip', 'via'];

export function keylessRefusal(req: Pick<Request, 'header'> & { socket: { remoteAddress?: string } }): string | undefined {
  if (!isLoopbackAddress(req.socket.remoteAddress)) return 'No admin key is configured, so the review page is served to this machine only.';
  if (!isLoopbackHostHeader(req.header('host'))) return 'No admin key is configured: the page answers only to localhost, 127.0.0.1 or [::1] as the host name.';
  if (PROXY_HEADERS.some((h) => req.header(h) !== undefined)) return 'No admin key is configured: requests through a proxy are refused (set review.admin_key to serve the page behind one).';
  if (req.header('sec-fetch-site') === 'cross-site') return 'No admin key is configured: requests from other sites are refused.';
  return undefined;
}

/** Who is told of a refused admin key (the gateway that mounts the page audits it); awaited before the 401 goes out. */
export type AdminKeyRefused = (req: Request, res: Response, reason: 'missing_key' | 'invalid_key') => Promise<void>;

export function reviewAccess(adminKey: string | undefined, deny: (res: Response, status: 401 | 403, message: string) => void, onRefused?: AdminKeyRefused): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (adminKey) {
      const authorization = req.header('authorization');
      if (presentsAdminKey(authorization, adminKey)) return next();
      res.setHeader('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`);
      const refuse = () => deny(res, 401, 'The review page needs the admin key: give it as the password (any user name), or as Authorization: Bearer <key>. App API keys do not open it.');
      if (!onRefused) return refuse();
      // A guess at the reviewers' key is a 401 like any other: recorded before it is answered.
      void onRefused(req, res, authorization ? 'invalid_key' : 'missing_key')
        .catch(() => undefined)
        .then(refuse);
      return;
    }
    // The socket's own address, never X-Forwarded-For: a header cannot make a remote client local.
    const refusal = keylessRefusal(req);
    if (refusal === undefined) return next();
    return deny(res, 403, refusal);
  };
}

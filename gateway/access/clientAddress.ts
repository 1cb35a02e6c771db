import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

export type TrustProxy = boolean | number | string;

/**
 * The client's address as express's req.ip reads it under the same `trust proxy` setting (config
 * `trust_proxy`): the socket's address, or behind trusted proxies the X-Forwarded-For entry they
 * vouch for. The guarded path runs on node's own request, so it asks proxy-addr as express does.
 */
export function clientAddressResolver(trust: TrustProxy): (req: IncomingMessage) => string | undefined {
  const trusted = compileTrust(trust);
  return (req) => (req.socket ? proxyaddr(req, trusted) : undefined);
}

/** express's compileTrust: true trusts every hop, a number that many hops, a string a comma-separated list of addresses or subnets. */
function compileTrust(value: TrustProxy): (address: string, index: number) => boolean {
  if (value === true) return () => true;
  if (typeof value === 'number') return (_address, index) => index < value;
  if (typeof value === 'string') return proxyaddr.compile(value.split(',').map((v) => v.trim()));
  return proxyaddr.compile([]);
}

import { isIP } from 'node:net';

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

/** Why the gateway refuses to start open on a reachable address, or undefined when it may. */
export function openAccessProblem(host: string, keysEnabled: boolean): string | undefined {
  if (keysEnabled || isLoopbackHost(host)) return undefined;
  return (
    `refusing to listen on ${host} without API keys: anyone who can reach that address could use the engine. ` +
    'Create a key (safety-gateway keys add --app NAME --file keys.yaml) and set SAFETY_KEYS_FILE=keys.yaml (or keys.file in the config), ' +
    'or listen on loopback (--host 127.0.0.1).'
  );
}

import Redis from 'ioredis';

/** Host and port of a Redis URL, for logs: never the password. */
export function redactRedisUrl(url: string): string {
  try {
    // Host, port and a database number only, read after the last `@`: a password with an
    // unencoded `/` parses as a path (`redis://default:/Xk9+secret@host` has host "default" and
    // the secret in the path), one starting with digits as a port.
    const scheme = url.slice(0, url.indexOf('//') + 2);
    const u = new URL(`${scheme}${url.slice(url.lastIndexOf('@') + 1 || scheme.length)}`);
    const db = /^\/\d{1,2}$/.test(u.pathname) ? u.pathname : '';
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${db}`;
  } catch {
    return '(unparseable Redis URL)';
  }
}

/**
 * The Redis connection of the shared rate limiter. Commands fail at once while the connection is
 * down (no offline queue, short command timeout) so the limiters answer from memory instead of
 * holding requests (a stalled server fails them at the timeout: redisBreaker.ts then keeps the
 * limiters off it for a while); ioredis keeps reconnecting meanwhile.
 * One log line per outage and per recovery.
 */
export function createRedisClient(url: string, log: (line: string) => void): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    connectTimeout: 2000,
    // On shutdown while Redis is down, the default 2 s force-close timer would outlive the gateway.
    disconnectTimeout: 200,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  });
  const where = redactRedisUrl(url);
  let up: boolean | undefined;
  client.on('ready', () => {
    if (up !== true) log(`rate limits: Redis at ${where} ${up === false ? 'reachable again: shared limits back in force' : 'connected'}`);
    up = true;
  });
  client.on('error', (err: NodeJS.ErrnoException) => {
    if (up !== false) log(`rate limits: Redis at ${where} unreachable (${err.code ?? 'error'}): each replica enforces its limits in memory until it is back`);
    up = false;
  });
  return client;
}

/**
 * Pure: what the passthrough route does with a request path. Upstream servers differ in what they
 * decode and resolve (percent-encoding, dot segments, `//`, `\`), so the gateway decides on the
 * path in one normal form and forwards only that form: nothing that reaches a guarded route (or
 * leaves /v1/) once an upstream has interpreted it can ever be passed through.
 */

// Routes that always go through the guards (or the gateway's own handler): one list, shared with `policy check`.
import { GUARDED_ROUTES, guardedRouteOf } from '../../policies/guardedRoutes';
export { GUARDED_ROUTES, guardedRouteOf };

/** How many layers of percent-encoding are undone (`%252e` is two). More is refused, not guessed at. */
const MAX_DECODE_ROUNDS = 3;

/** After decoding, a path may hold only these: RFC 3986 path characters without `%` and `;` (matrix parameters). */
const SAFE_PATH = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]*$/;

export type NormalisedPath = { ok: true; path: string } | { ok: false; problem: string };

/**
 * Percent-decodes (repeatedly), turns backslashes into slashes, collapses repeated slashes and
 * resolves `.` and `..` segments (RFC 3986 section 5.2.4). Refuses malformed or excessive encoding,
 * characters outside SAFE_PATH (controls, NUL, spaces, non-ASCII look-alikes) and `..` above the root.
 */
export function normalisePath(raw: string): NormalisedPath {
  if (!raw.startsWith('/') && !raw.startsWith('\\')) return { ok: false, problem: 'the path must start with /' };
  let path = raw.replace(/\\/g, '/');
  for (let round = 0; path.includes('%'); round++) {
    if (round === MAX_DECODE_ROUNDS) return { ok: false, problem: `the path is percent-encoded more than ${MAX_DECODE_ROUNDS} times` };
    try {
      path = decodeURIComponent(path).replace(/\\/g, '/');
    } catch {
      return { ok: false, problem: 'the path holds a malformed percent-encoding' };
    }
  }
  if (!SAFE_PATH.test(path)) return { ok: false, problem: 'the path holds characters that are not allowed (only letters, digits and - . _ ~ ! $ & \' ( ) * + , = : @ /)' };
  const segments = path.split('/').slice(1);
  const out: string[] = [];
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (segment === '..') {
      if (out.length === 0) return { ok: false, problem: 'the path climbs above the root' };
      out.pop();
      if (last) out.push('');
    } else if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '' && !last) {
      continue; // `//` collapses to `/`
    } else {
      out.push(segment);
    }
  }
  return { ok: true, path: `/${out.join('/')}` };
}

export type PassthroughDecision =
  | { kind: 'forward'; path: string }
  | { kind: 'refuse'; status: 400 | 404; code: 'invalid_path' | 'not_found'; message: string };

/**
 * Engine endpoints that answer with model-written text the gateway does not check (vLLM's
 * Anthropic-style /v1/messages, speech to text, realtime sessions, batches of completions). A
 * wildcard such as `/v1/*` never reaches them: forwarding one unguarded takes listing it exactly.
 */
export const GENERATING_ROUTES = ['/v1/messages', '/v1/audio/transcriptions', '/v1/audio/translations', '/v1/realtime', '/v1/batches'] as const;

function generating(path: string): boolean {
  const lower = path.toLowerCase().replace(/\/+$/, '');
  return GENERATING_ROUTES.some((route) => lower === route || lower.startsWith(`${route}/`));
}

/** Whether a policy's `routes.passthrough` lists the path (`/v1/files/*` matches a prefix and `/v1/files` itself, never a generating route). */
export function listed(path: string, passthrough: readonly string[]): boolean {
  return passthrough.some((p) => p === path || (p.endsWith('/*') && (path === p.slice(0, -2) || path.startsWith(p.slice(0, -1))) && !generating(path)));
}

/**
 * The whole decision for one request path (without its query string): forward the normal form, or
 * refuse. A path that needed normalising and then reaches a guarded route or leaves /v1/ is a 400
 * (someone is trying to get around the guards); an ordinary unlisted route is a 404.
 */
export function passthroughDecision(rawPath: string, passthrough: readonly string[]): PassthroughDecision {
  const shown = rawPath.slice(0, 200);
  const normal = normalisePath(rawPath);
  if (!normal.ok) return { kind: 'refuse', status: 400, code: 'invalid_path', message: `Refused path ${shown}: ${normal.problem}.` };
  const path = normal.path;
  const changed = path !== rawPath;
  if (!path.toLowerCase().startsWith('/v1/')) return { kind: 'refuse', status: changed ? 400 : 404, code: changed ? 'invalid_path' : 'not_found', message: `Refused path ${shown}: it resolves to ${path.slice(0, 200)}, outside /v1/.` };
  const guarded = guardedRouteOf(path);
  if (guarded) {
    if (changed) return { kind: 'refuse', status: 400, code: 'invalid_path', message: `Refused path ${shown}: it resolves to the guarded route ${guarded}, which is never passed through. Call ${guarded} directly.` };
    return { kind: 'refuse', status: 404, code: 'not_found', message: `Unknown route: ${shown} (the guarded route ${guarded} takes only the methods it documents).` };
  }
  if (!listed(path, passthrough)) {
    const why = generating(path) ? ' (it answers with generated text the gateway does not check; a wildcard in routes.passthrough never forwards it)' : '';
    return { kind: 'refuse', status: 404, code: 'not_found', message: `Unknown or disabled route: ${path.slice(0, 200)}${why}` };
  }
  return { kind: 'forward', path };
}

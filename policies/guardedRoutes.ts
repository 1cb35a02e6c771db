/**
 * The routes the gateway always guards (or answers itself), shared by the request path
 * (gateway/routes/passthroughPath.ts) and `policy check` (semantics.ts), so a policy that lists
 * one as passthrough is refused by the check exactly where the gateway would never forward it.
 */

/** Compared case-insensitively; a sub-path of one (but `/v1/models/{id}`) is that route too. */
export const GUARDED_ROUTES = ['/v1/chat/completions', '/v1/completions', '/v1/responses', '/v1/models'] as const;

/** The guarded route a normalised path falls under, or undefined. */
export function guardedRouteOf(path: string): string | undefined {
  const lower = path.toLowerCase().replace(/\/+$/, '');
  return GUARDED_ROUTES.find((route) => lower === route || (route !== '/v1/models' && lower.startsWith(`${route}/`)));
}

/** The guarded route a passthrough entry (a path, or a prefix ending in `/*`) would cover, or undefined. */
export function guardedRouteCoveredBy(entry: string): string | undefined {
  if (!entry.endsWith('/*')) return guardedRouteOf(entry);
  const prefix = entry.slice(0, -1).toLowerCase();
  return GUARDED_ROUTES.find((route) => `${route}/`.startsWith(prefix) || route.startsWith(prefix)) ?? guardedRouteOf(entry.slice(0, -2));
}

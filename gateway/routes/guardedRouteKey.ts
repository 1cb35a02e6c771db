/**
 * Pure: the key a request target's path is matched under, as express matches a route path: case
 * insensitive, one trailing slash optional, the query string left out. A target in absolute form
 * (`http://host/v1/...`) gets no key of a route and goes to express, which serves it the same way.
 */
export function guardedRouteKey(target: string): string {
  const query = target.indexOf('?');
  let path = query === -1 ? target : target.slice(0, query);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path.toLowerCase();
}

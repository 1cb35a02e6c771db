import { badRequest } from '../errors';

/** The part of a zod schema validation needs (safeParse). */
export interface RequestSchema<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/** Zod at the edge: the body as its schema types it, or a 400 naming the first member that is wrong. */
export function validation<T>(schema: RequestSchema<T>, body: unknown, what: string): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`the request body must be a JSON object (${what})`);
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue.path.map(String).join('.') || null;
    // OpenAI's words for a member left out, rather than zod's "expected array, received undefined".
    if (param && isAbsent(body, issue.path)) throw badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
    throw badRequest(`invalid ${what} request: ${param ? `\`${param}\`: ` : ''}${issue.message}`, param);
  }
  return result.data;
}

/** Pure: whether the member at `path` is missing from the body (its parent is there, it is not). */
function isAbsent(body: unknown, path: readonly PropertyKey[]): boolean {
  let parent: unknown = body;
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return false;
    parent = (parent as Record<PropertyKey, unknown>)[key as string];
  }
  return parent !== null && typeof parent === 'object' && !Object.prototype.hasOwnProperty.call(parent, path[path.length - 1] as string);
}

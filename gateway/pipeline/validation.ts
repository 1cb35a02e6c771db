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
    throw badRequest(`invalid ${what} request: ${param ? `\`${param}\`: ` : ''}${issue.message}`, param);
  }
  return result.data;
}

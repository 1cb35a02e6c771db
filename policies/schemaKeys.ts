import type { z } from 'zod';
import type { PathSegment } from './problems';
import { PolicyFile } from './schema';

/**
 * Pure: the field names the schema allows at a path of a policy document (for did-you-mean
 * hints), read from the zod schema itself so the hints never drift from what is accepted.
 * `data` is the document, used to pick the branch of a discriminated union (a guard's `type`).
 * `root`: another zod schema read the same way (the gateway's config file).
 */
export function knownKeysAt(path: readonly PathSegment[], data: unknown, root: z.core.$ZodType = PolicyFile): string[] {
  let schema: z.core.$ZodType | undefined = root;
  let value: unknown = data;
  for (const segment of path) {
    schema = step(unwrap(schema), segment, value);
    value = isRecord(value) || Array.isArray(value) ? (value as Record<PathSegment, unknown>)[segment] : undefined;
    if (!schema) return [];
  }
  const objects = objectsOf(unwrap(schema), value);
  return [...new Set(objects.flatMap((o) => Object.keys(o._zod.def.shape)))];
}

type ObjectSchema = z.core.$ZodObject;

function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  for (let i = 0; current && i < 10; i++) {
    const def = current._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type)) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
  }
  return current;
}

function step(schema: z.core.$ZodType | undefined, segment: PathSegment, value: unknown): z.core.$ZodType | undefined {
  if (!schema) return undefined;
  const def = schema._zod.def as { type: string };
  switch (def.type) {
    case 'object':
      return (schema as ObjectSchema)._zod.def.shape[String(segment)];
    case 'array':
      return (schema as z.core.$ZodArray)._zod.def.element;
    case 'record':
      return (schema as z.core.$ZodRecord)._zod.def.valueType;
    case 'union': {
      const objects = objectsOf(schema, value);
      return objects.map((o) => o._zod.def.shape[String(segment)]).find((s) => s !== undefined);
    }
    default:
      return undefined;
  }
}

/** The object schemas a value may be checked against: one for an object, the matching branch(es) of a union. */
function objectsOf(schema: z.core.$ZodType | undefined, value: unknown): ObjectSchema[] {
  if (!schema) return [];
  const def = schema._zod.def as { type: string; options?: z.core.$ZodType[]; discriminator?: string };
  if (def.type === 'object') return [schema as ObjectSchema];
  if (def.type === 'union' && def.options) {
    const all = def.options.flatMap((o) => objectsOf(unwrap(o), value));
    if (def.discriminator && isRecord(value)) {
      const tag = value[def.discriminator];
      const matching = all.filter((o) => {
        const field = o._zod.def.shape[def.discriminator as string] as z.core.$ZodType | undefined;
        const values = (field?._zod.def as { values?: unknown[] } | undefined)?.values;
        return values?.includes(tag);
      });
      if (matching.length) return matching;
    }
    return all;
  }
  return [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

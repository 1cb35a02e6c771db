import type { z } from 'zod';

/**
 * Walks a zod schema and lists every place a string can go ("slots"), with the path of object
 * members and array items (item 0) that leads there: what the coverage property tests put a
 * marker into, so a member added to a schema is tested without anyone listing it.
 */
export type Segment = string | 0;

export interface Slot {
  path: Segment[];
  /** `string`: the schema says string; `unknown`: anything goes (free-form JSON). */
  kind: 'string' | 'unknown';
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  valueType?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

export function stringSlots(schema: z.ZodType, path: Segment[] = [], seen = new Set<z.ZodType>()): Slot[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return [{ path, kind: 'string' }];
    case 'unknown':
    case 'any':
      return [{ path, kind: 'unknown' }];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      return stringSlots(def.innerType!, path, seen);
    case 'array':
      return stringSlots(def.element!, [...path, 0], seen);
    case 'union': {
      // Every branch that leads somewhere else; a path reached by two branches counts once.
      const slots = def.options!.flatMap((o) => stringSlots(o, path, seen));
      const keyed = new Map(slots.map((s) => [`${s.path.join('.')}|${s.kind}`, s]));
      return [...keyed.values()];
    }
    case 'object': {
      if (seen.has(schema)) return [];
      const inner = new Set(seen).add(schema);
      return Object.entries(def.shape!).flatMap(([key, member]) => stringSlots(member, [...path, key], inner));
    }
    case 'record':
      return stringSlots(def.valueType!, [...path, 'key'], seen);
    default:
      return [];
  }
}

/** The members an object schema declares (unwrapping optional/nullable). */
export function membersOf(schema: z.ZodType): string[] {
  const def = defOf(schema);
  if (def.innerType) return membersOf(def.innerType);
  if (def.type === 'array') return membersOf(def.element!);
  return def.shape ? Object.keys(def.shape) : [];
}

/** A copy of `base` with `value` at `path`, creating objects and arrays on the way. */
export function placeAt(base: unknown, path: Segment[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (head === 0) {
    const list = Array.isArray(base) ? [...base] : [];
    list[0] = placeAt(list[0], rest, value);
    return list;
  }
  const object = base !== null && typeof base === 'object' && !Array.isArray(base) ? { ...(base as Record<string, unknown>) } : {};
  object[head] = placeAt(object[head], rest, value);
  return object;
}

/** Every member name declared anywhere in a schema: names an "undeclared member" must not take. */
export function declaredNames(schema: z.ZodType, into = new Set<string>(), seen = new Set<z.ZodType>()): Set<string> {
  if (seen.has(schema)) return into;
  seen.add(schema);
  const def = defOf(schema);
  for (const inner of [def.innerType, def.element, def.valueType, ...(def.options ?? [])]) if (inner) declaredNames(inner, into, seen);
  for (const [key, member] of Object.entries(def.shape ?? {})) {
    into.add(key);
    declaredNames(member, into, seen);
  }
  return into;
}

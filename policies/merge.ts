import type { PathSegment } from './problems';
import { isRecord } from './schemaKeys';

/**
 * Pure: how `extends` combines policy files. Works on the files' plain data before validation, so
 * defaults are applied once, to the result, and a value a file leaves out is inherited rather than
 * reset to its default. The rules (documented in policies/README.md):
 *
 * - `id`, `extends`, `policies`, `tests` belong to each file and are never inherited.
 * - `input` and `output` merge by rule id: a rule whose id matches an inherited rule replaces it
 *   in place (the whole rule); other rules are appended after the inherited ones.
 * - Any other mapping (`guards`, `streaming`, `refusals`, `routes`, ...) merges one level deep:
 *   an entry the file sets replaces the inherited entry of the same name (a guard is replaced
 *   whole); entries it does not set are inherited.
 * - Everything else (lists such as `routes.passthrough`, scalars) is replaced whole.
 */

export const NOT_INHERITED: readonly string[] = ['id', 'extends', 'policies', 'tests'];
const RULE_LISTS: readonly string[] = ['input', 'output'];

/** Which file (index into the layers) a merged value came from, and its path there. */
export interface Origin {
  layer: number;
  path: PathSegment[];
}

export interface MergedLayers {
  data: Record<string, unknown>;
  originOf(path: readonly PathSegment[]): Origin;
}

interface Trace {
  /** Top-level key -> layer that set it. */
  top: Map<string, number>;
  /** Mapping sections merged one level deep: key -> entry -> layer. */
  sections: Map<string, Map<string, number>>;
  /** Rule lists: merged index -> layer and index there. */
  rules: Map<string, { layer: number; index: number }[]>;
}

/** `layers` run from the most basic file (the end of the `extends` chain) to the file itself. */
export function mergeLayers(layers: readonly Record<string, unknown>[]): MergedLayers {
  const data: Record<string, unknown> = {};
  const trace: Trace = { top: new Map(), sections: new Map(), rules: new Map() };
  layers.forEach((layer, index) => {
    for (const key of NOT_INHERITED) forget(data, trace, key);
    for (const [key, value] of Object.entries(layer)) mergeKey(data, trace, key, value, index);
  });
  const leaf = Math.max(0, layers.length - 1);
  return { data, originOf: (path) => originOf(trace, path, leaf) };
}

function mergeKey(data: Record<string, unknown>, trace: Trace, key: string, value: unknown, layer: number): void {
  const inherited = data[key];
  if (RULE_LISTS.includes(key) && Array.isArray(inherited) && Array.isArray(value)) {
    const merged = mergeRules(inherited, trace.rules.get(key) ?? [], value, layer);
    data[key] = merged.rules;
    trace.rules.set(key, merged.origins);
  } else if (!RULE_LISTS.includes(key) && isRecord(inherited) && isRecord(value)) {
    data[key] = { ...inherited, ...value };
    const owners = trace.sections.get(key) ?? new Map<string, number>();
    for (const entry of Object.keys(value)) owners.set(entry, layer);
    trace.sections.set(key, owners);
  } else {
    forget(data, trace, key);
    data[key] = value;
    if (Array.isArray(value) && RULE_LISTS.includes(key)) trace.rules.set(key, value.map((_, index) => ({ layer, index })));
    if (isRecord(value)) trace.sections.set(key, new Map(Object.keys(value).map((entry) => [entry, layer])));
  }
  trace.top.set(key, layer);
}

function mergeRules(inherited: unknown[], inheritedOrigins: { layer: number; index: number }[], own: unknown[], layer: number) {
  const rules = [...inherited];
  const origins = inherited.map((_, i) => inheritedOrigins[i] ?? { layer: layer - 1, index: i });
  // Only inherited rules can be replaced: a file listing one id twice keeps both, so the
  // duplicate is reported instead of silently hiding one of them.
  const replaceable = new Map<string, number>();
  inherited.forEach((rule, i) => {
    const id = ruleId(rule);
    if (id !== undefined && !replaceable.has(id)) replaceable.set(id, i);
  });
  own.forEach((rule, index) => {
    const id = ruleId(rule);
    const at = id === undefined ? undefined : replaceable.get(id);
    if (at !== undefined && id !== undefined) {
      rules[at] = rule;
      origins[at] = { layer, index };
      replaceable.delete(id);
    } else {
      rules.push(rule);
      origins.push({ layer, index });
    }
  });
  return { rules, origins };
}

function ruleId(rule: unknown): string | undefined {
  return isRecord(rule) && typeof rule.id === 'string' ? rule.id : undefined;
}

function forget(data: Record<string, unknown>, trace: Trace, key: string): void {
  delete data[key];
  trace.top.delete(key);
  trace.sections.delete(key);
  trace.rules.delete(key);
}

function originOf(trace: Trace, path: readonly PathSegment[], leaf: number): Origin {
  const [key, next, ...rest] = path;
  if (key === undefined) return { layer: leaf, path: [] };
  const k = String(key);
  const rule = typeof next === 'number' ? trace.rules.get(k)?.[next] : undefined;
  if (rule) return { layer: rule.layer, path: [k, rule.index, ...rest] };
  const entryOwner = next === undefined ? undefined : trace.sections.get(k)?.get(String(next));
  if (entryOwner !== undefined) return { layer: entryOwner, path: [...path] };
  return { layer: trace.top.get(k) ?? leaf, path: [...path] };
}

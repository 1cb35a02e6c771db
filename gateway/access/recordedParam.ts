import { ChatCompletionRequest, CompletionRequest, ResponsesRequest } from '../pipeline/requestSchemas';

/**
 * What a refusal's record keeps of the member its error names (`param`). The client gets its own
 * path back in the error; the audit log and telemetry keep request content in no form, and a path
 * can hold the client's words: a `metadata` or `logit_bias` key, a member the gateway does not
 * know, a property name in a tool's JSON schema. So a recorded path stops before its first name
 * the request schemas do not declare (a field the policy refuses by name is recorded whole:
 * PolicyRefusedFieldError, rejections.ts).
 */

type Walkable = { _zod: { def: Record<string, unknown> & { type: string } } };

/** Every member name the request schemas declare, at any depth (record keys are the client's, never collected), and those whose value is a record. */
function declaredNames(schemas: readonly Walkable[]): { names: Set<string>; records: Set<string> } {
  const names = new Set<string>();
  const records = new Set<string>();
  const isRecord = (schema: unknown): boolean => {
    const def = (schema as Walkable | undefined)?._zod?.def;
    if (!def) return false;
    if (def.type === 'record') return true;
    return ['optional', 'nullable', 'default', 'readonly', 'catch'].includes(def.type) && isRecord(def.innerType);
  };
  const seen = new Set<unknown>();
  const walk = (schema: unknown): void => {
    if (!schema || typeof schema !== 'object' || seen.has(schema) || !('_zod' in schema)) return;
    seen.add(schema);
    const def = (schema as Walkable)._zod.def;
    switch (def.type) {
      case 'object':
        for (const [name, member] of Object.entries(def.shape as Record<string, unknown>)) {
          names.add(name);
          if (isRecord(member)) records.add(name);
          walk(member);
        }
        return;
      case 'lazy':
        return walk((def.getter as () => unknown)());
      case 'record':
        return walk(def.valueType);
      case 'union':
        return (def.options as unknown[]).forEach(walk);
      case 'intersection':
        walk(def.left);
        return walk(def.right);
      case 'pipe':
        walk(def.in);
        return walk(def.out);
      default:
        // array (element), optional, nullable, default, readonly, catch (innerType), and leaves.
        walk(def.element);
        walk(def.innerType);
    }
  };
  schemas.forEach(walk);
  return { names, records };
}

let declared: { names: Set<string>; records: Set<string> } | undefined;

/** A record whose keys are token ids (numbers the API defines), kept: every other record's keys are the client's. */
const TOKEN_ID_RECORDS: ReadonlySet<string> = new Set(['logit_bias']);

/** Array indexes stay under the hardening limits (thousands) and token ids under a million. */
const MAX_INDEX_DIGITS = 6;

/** Pure: `param` up to its first name no request schema declares (array indexes kept); undefined when that is its first. */
export function recordedParam(param: string): string | undefined {
  declared ??= declaredNames([ChatCompletionRequest, CompletionRequest, ResponsesRequest] as unknown as Walkable[]);
  // Segments: names between `.` and indexes in `[n]` (or `.n`, zod's form).
  const segment = /([^.[\]]+)|\[(\d+)\]/g;
  let end = 0;
  let previous: string | undefined;
  for (let m = segment.exec(param); m; m = segment.exec(param)) {
    const name = m[1] ?? m[2];
    // A key of a record (metadata) is the client's, digits or not (a PIN, a date); a token id is not.
    if (previous !== undefined && declared.records.has(previous) && !TOKEN_ID_RECORDS.has(previous)) break;
    // An index, or a token id: a few digits. A longer number is the client's (a card number).
    if (/^\d+$/.test(name) ? name.length > MAX_INDEX_DIGITS : !declared.names.has(name)) break;
    end = m.index + m[0].length;
    previous = name;
  }
  return end === 0 ? undefined : param.slice(0, end);
}

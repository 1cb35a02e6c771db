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

/** Every member name the request schemas declare, at any depth (record keys are the client's, never collected). */
function declaredNames(schemas: readonly Walkable[]): Set<string> {
  const names = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (schema: unknown): void => {
    if (!schema || typeof schema !== 'object' || seen.has(schema) || !('_zod' in schema)) return;
    seen.add(schema);
    const def = (schema as Walkable)._zod.def;
    switch (def.type) {
      case 'object':
        for (const [name, member] of Object.entries(def.shape as Record<string, unknown>)) {
          names.add(name);
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
  return names;
}

let declared: Set<string> | undefined;

/** Array indexes stay under the hardening limits (thousands) and token ids under a million. */
const MAX_INDEX_DIGITS = 6;

/** Pure: `param` up to its first name no request schema declares (array indexes kept); undefined when that is its first. */
export function recordedParam(param: string): string | undefined {
  declared ??= declaredNames([ChatCompletionRequest, CompletionRequest, ResponsesRequest] as unknown as Walkable[]);
  // Segments: names between `.` and indexes in `[n]` (or `.n`, zod's form).
  const segment = /([^.[\]]+)|\[(\d+)\]/g;
  let end = 0;
  for (let m = segment.exec(param); m; m = segment.exec(param)) {
    const name = m[1] ?? m[2];
    // An index, or a token id (a logit_bias key): a few digits. A longer number is the client's (a card, a phone number as a metadata key).
    if (/^\d+$/.test(name) ? name.length > MAX_INDEX_DIGITS : !declared.has(name)) break;
    end = m.index + m[0].length;
  }
  return end === 0 ? undefined : param.slice(0, end);
}

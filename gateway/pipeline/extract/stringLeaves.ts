/**
 * Every string inside a JSON value, with where it sits: what "scan everything the engine or the
 * client reads" means for free-form values (tool schemas, documents, fields the gateway does not
 * know). Iterative, so a deeply nested engine answer cannot overflow the stack.
 */
export interface Leaf {
  /** JSON path from the value's own path, e.g. `tools[0].function.parameters.properties.city.description`. */
  path: string;
  text: string;
}

export interface LeafOptions {
  /** Also list object member names (a tool schema's property names are read by the engine too). */
  keys?: boolean;
  /** Strings that are structure, not text (e.g. `type: "function"`), by their member name. */
  skipValue?: (key: string | undefined, value: string) => boolean;
  /** Member names never listed as keys (JSON Schema vocabulary such as `properties`, `required`). */
  skipKeys?: ReadonlySet<string>;
}

export function stringLeaves(value: unknown, path: string, options: LeafOptions = {}): Leaf[] {
  const leaves: Leaf[] = [];
  const stack: { value: unknown; path: string; key?: string }[] = [{ value, path }];
  while (stack.length > 0) {
    const { value: v, path: p, key } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.length > 0 && !options.skipValue?.(key, v)) leaves.push({ path: p, text: v });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: `${p}[${i}]` });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      // Pushed in reverse so leaves come out in document order; a key comes before its value.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i];
        const childPath = p ? `${p}${pathKey(k)}` : pathKey(k).replace(/^\./, '');
        stack.push({ value: child, path: childPath, key: k });
        if (options.keys && k.length > 0 && !options.skipKeys?.has(k)) stack.push({ value: k, path: `${childPath}#key` });
      }
    }
  }
  return leaves;
}

/**
 * A member name the API does not document (`documented`: the schema's own members), as a text
 * of its own: the engine receives the name with the body, so a name can carry words a value would.
 */
export function unknownMemberName(key: string, at: string, documented: ReadonlySet<string>): { path: string; text: string } | undefined {
  return documented.has(key) ? undefined : { path: `${at}${pathKey(key)}#key`, text: key };
}

/** A member name as written in a path: `.name`, or `["a.b"]` when the name holds what a path uses itself, so no two members share a path. */
export function pathKey(key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Array indexes dropped from a path, so the same field of successive stream chunks is one text. */
export function lanePath(path: string): string {
  // A quoted member name (`["a[1]"]`) is kept as it is: its brackets are the name's own.
  return path.replace(/\["(?:[^"\\]|\\.)*"\]|\[\d+\]/g, (m) => (m.startsWith('["') ? m : '[]'));
}

/** JSON type names and the API's own discriminators: `type: "object"` or `type: "function"` is structure. */
const TYPE_NAMES: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null', 'function', 'text', 'json_schema', 'json_object']);

export function isTypeName(key: string | undefined, value: string): boolean {
  return key === 'type' && TYPE_NAMES.has(value);
}

/**
 * Pure: a JSON path as the audit log and telemetry keep it. Paths name where the worst-scored text
 * sits (`messages[3].content`, `tools[0].function.parameters.properties.city.description`), but a
 * member the API does not define is named by the client (an extra key of a message, a tool's
 * property name), and that name can hold a prompt or a secret in every capture mode. Such
 * segments become `*`; array indexes, the API's own member names and the gateway's own names for
 * its readings stay, so a reviewer can tell which reading scored:
 * - a suffix chain (`#spaced`, `#normalized`, `#base64@120`, `#key`, ...: guards/text/prepareTexts.ts);
 * - a join of several texts, `joined:` + the first text's path, `..`, the last's (joinedTexts.ts),
 *   or `joined:` + a list of parts read with nothing between them (gluedParts.ts);
 * - a turn read from several members, their names joined by `+` (`tools+response_format`).
 */
const API_MEMBERS: ReadonlySet<string> = new Set([
  // chat and text completions
  'messages', 'content', 'text', 'name', 'role', 'refusal', 'tool_calls', 'tool_call_id', 'function', 'arguments', 'function_call',
  'reasoning_content', 'reasoning', 'tools', 'functions', 'tool_choice', 'parameters', 'properties', 'items', 'description', 'title',
  'enum', 'const', 'default', 'examples', 'pattern', 'format', 'response_format', 'json_schema', 'schema', 'prompt', 'suffix',
  'documents', 'image_url', 'input_audio', 'file', 'url', 'detail', 'data', 'metadata', 'guided_json', 'guided_regex', 'guided_choice', 'guided_grammar',
  // answers as the gateway names their places (choices[0].message.content, choices[0].bookkeeping)
  'choices', 'message', 'delta', 'bookkeeping', 'logprobs', 'top_logprobs', 'token', 'bytes', 'finish_reason', 'usage', 'model',
  'system_fingerprint', 'service_tier', 'object', 'error', 'param', 'code',
  // Responses
  'input', 'instructions', 'output', 'summary', 'output_text', 'input_text', 'annotations', 'call_id', 'strict', 'type', 'id', 'status',
  // JSON Schema vocabulary read inside tool parameters
  '$defs', 'definitions', 'anyOf', 'oneOf', 'allOf', 'additionalProperties', 'required', 'prefixItems', 'not',
  // the content guard's readings of a turn: its parts glued, an id read apart (ChatTurn.glued, ChatTurn.apart)
  'glued', 'apart',
]);

/** The gateway's derived readings of a text (prepareTexts.ts, bookkeeping.ts, a remote Prompt Guard's `#whitespace`, a Responses slot's `#earlier`), as path suffixes. */
const READING_SUFFIXES = /(?:#(?:unicode_tags|normalized|rot13|joined|spaced|whitespace|key|id|type|earlier|(?:base64|hex|url|quoted_printable)@\d+))+$/;
const JOIN_PREFIXES = ['joined:', 'joined@'] as const;

export function recordedPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const prefix = JOIN_PREFIXES.find((p) => path.startsWith(p)) ?? '';
  const rest = path.slice(prefix.length);
  const suffix = READING_SUFFIXES.exec(rest)?.[0] ?? '';
  const body = rest.slice(0, rest.length - suffix.length);
  // Quoted names first (the client's, `[*]`), so a `..` or `+` inside one separates nothing.
  const recorded = joinedRange(body.replace(QUOTED_NAME, '[*]'))
    .map((one) => one.split('+').map(memberPath).join('+'))
    .join('..');
  return (prefix + recorded + suffix).slice(0, 300);
}

/** A member name the gateway quoted (`["a.b"]`: it holds `.`, `[` or `#`): the client's, so `[*]`. */
const QUOTED_NAME = /\["(?:[^"\\]|\\.)*"\]/g;

function memberPath(path: string): string {
  return path
    .replace(QUOTED_NAME, '[*]')
    .split('.')
    .map((segment) => {
      const at = segment.indexOf('[');
      const name = at === -1 ? segment : segment.slice(0, at);
      const indexes = at === -1 ? '' : segment.slice(at);
      const safeIndexes = /^(\[(\d+|\*)\])*$/.test(indexes) ? indexes : '[*]';
      return (name === '' || API_MEMBERS.has(name) ? name : '*') + safeIndexes;
    })
    .join('.');
}

/**
 * Pure: a join's first and last paths (`a..b`), or the one path. A member name holding `..` is
 * quoted in a path (`["a..b"]`): only a `..` outside quotes separates.
 */
export function joinedRange(path: string): string[] {
  const masked = path.replace(QUOTED_NAME, (quoted) => 'x'.repeat(quoted.length));
  const at = masked.indexOf('..');
  return at === -1 ? [path] : [path.slice(0, at), path.slice(at + 2)];
}

/**
 * Pure: a JSON path as the audit log keeps it. Paths name where the worst-scored text sits
 * (`messages[3].content`, `tools[0].function.parameters.properties.city.description`), but a
 * member the API does not define is named by the client (an extra key of a message, a tool's
 * property name), and that name can hold a prompt or a secret in every capture mode. Such
 * segments become `*`; array indexes and the API's own member names stay.
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
]);

export function recordedPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const isKey = path.endsWith('#key');
  const body = isKey ? path.slice(0, -'#key'.length) : path;
  const out = body
    .split('.')
    .map((segment) => {
      const at = segment.indexOf('[');
      const name = at === -1 ? segment : segment.slice(0, at);
      const indexes = at === -1 ? '' : segment.slice(at);
      const safeIndexes = /^(\[\d+\])*$/.test(indexes) ? indexes : '[*]';
      return (name === '' || API_MEMBERS.has(name) ? name : '*') + safeIndexes;
    })
    .join('.');
  return (out + (isKey ? '#key' : '')).slice(0, 300);
}

/**
 * Tool-call arguments as the engine and the client read them. They travel as a JSON string whose
 * escapes (`\u003c`, `\n`, ...) vLLM decodes (json.loads) before the chat template writes them
 * back unescaped (tojson with ensure_ascii off), and a client decodes the same way: so
 * `\u003c|eot_id|\u003e` in arguments is a real control token to the engine, and a harmful
 * request spelled in escapes is plain text to it. Guards must read the decoded form.
 */

/** The arguments with their JSON escapes decoded (compact JSON), or as sent when there is nothing to decode or they are not JSON. */
export function readableArguments(raw: string): string {
  // Without a backslash there is no escape, and the text is already what the engine reads.
  if (!raw.includes('\\')) return raw;
  try {
    // Re-serialised as json.dumps(ensure_ascii=False) writes it: non-ASCII and `<` literal,
    // quotes, backslashes and control characters escaped (separators aside).
    return JSON.stringify(JSON.parse(raw));
  } catch {
    return raw;
  }
}

import { MalformedAnswerError } from '../../engine/answerSchema';
import type { EngineResponse } from '../../engine/client';
import { EngineError } from '../../engine/errors';

/** A malformed engine answer is the engine's failure: 502 engine_error, never a 500. */
export function engineAnswer<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof MalformedAnswerError) throw new EngineError('bad_gateway', err.message);
    throw err;
  }
}

/** A whole (not streamed) engine answer as sent: relayed byte for byte when it passes. */
export async function readEngineBody(upstream: EngineResponse): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of upstream.body) chunks.push(chunk as Uint8Array);
  // Most answers arrive in one chunk: no copy then.
  return chunks.length === 1 && Buffer.isBuffer(chunks[0]) ? chunks[0] : Buffer.concat(chunks);
}

/** Its JSON; an answer that is not JSON is a 502. */
export function parseEngineJson(raw: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new EngineError('bad_gateway', 'the engine sent an answer that is not valid JSON');
  }
}

import { isUtf8 } from 'node:buffer';
import { MalformedAnswerError } from '../../engine/answerSchema';
import type { EngineResponse } from '../../engine/client';
import { classifyEngineError, EngineError } from '../../engine/errors';
import { hasDuplicateMembers } from './duplicateMembers';

/** A malformed engine answer is the engine's failure: 502 engine_error, never a 500. */
export function engineAnswer<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof MalformedAnswerError) throw new EngineError('bad_gateway', err.message);
    throw err;
  }
}

/**
 * A whole (not streamed) engine answer as sent: relayed byte for byte when it passes. Read with
 * the stream's own events: an async iterator costs a request more than the read itself. Bytes that
 * are not UTF-8 (an overlong `/`, an encoded surrogate) are replaced as the guards' decoding
 * replaces them (U+FFFD, as the stream path relays them): a lenient client could otherwise read a
 * text no guard read.
 */
export function readEngineBody(upstream: EngineResponse): Promise<Buffer> {
  const body = upstream.body;
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const onData = (chunk: Uint8Array) => chunks.push(chunk);
    const onEnd = () => {
      done();
      // Most answers arrive in one chunk: no copy then.
      const raw = chunks.length === 1 && Buffer.isBuffer(chunks[0]) ? chunks[0] : Buffer.concat(chunks);
      resolve(isUtf8(raw) ? raw : Buffer.from(raw.toString('utf8'), 'utf8'));
    };
    // A stalled, reset or abandoned body is the engine's failure (504, 502) or the client's (499), never a 500.
    const onError = (err: unknown) => {
      done();
      reject(classifyEngineError(err, 'stream'));
    };
    // Closed before its end without an error: what an async iterator reports as a premature close.
    const onClose = () => onError(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    const done = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}

/** Its JSON; an answer that is not JSON is a 502. */
export function parseEngineJson(raw: Buffer): Record<string, unknown> {
  return parseEngineText(raw.toString('utf8'), 'an answer') as Record<string, unknown>;
}

/**
 * JSON from the engine (a whole answer or one stream event). Refused (502), since the client gets
 * the bytes as sent while the guards read the parsed value:
 * - a `__proto__` member: the schemas drop it, so its text would go to the client unread, while a
 *   client's own parser keeps it as an ordinary member (the reviver runs only when the text could
 *   spell the name);
 * - a member named twice in one object: the guards read the last, a client may show the first.
 */
export function parseEngineText(text: string, what: string): unknown {
  if (nestsDeeperThan(text, ENGINE_JSON_DEPTH)) throw new EngineError('bad_gateway', `the engine sent ${what} nesting arrays and objects deeper than ${ENGINE_JSON_DEPTH} levels, which the gateway cannot check`);
  let value: unknown;
  try {
    value = /proto|\\u/.test(text) ? JSON.parse(text, refuseProtoMember) : JSON.parse(text);
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw new EngineError('bad_gateway', `the engine sent ${what} that is not valid JSON`);
  }
  if (hasDuplicateMembers(text, value)) throw new EngineError('bad_gateway', `the engine sent ${what} that names a member twice, which the gateway cannot check`);
  return value;
}

/**
 * Chat answers nest about 8 levels (tool arguments and structured output are strings), but a
 * Responses object echoes the request's tool and format schemas, which `limits.json_depth` lets a
 * client nest up to 1,000 levels, one or two levels deeper in a stream event: so the limit sits
 * above that. JSON.parse takes far deeper nesting than the recursive code after it (the usage
 * schema overflowed at about 5,000 levels; the answer memory, JSON.stringify of a kept choice),
 * which then threw a RangeError after the record was written: refused before parsing, as a 502.
 */
export const ENGINE_JSON_DEPTH = 1_100;

/** Whether JSON text nests arrays and objects deeper than `limit` (the request side's exceedsJsonDepth, on text). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function refuseProtoMember(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new EngineError('bad_gateway', 'the engine sent a __proto__ member, which the gateway cannot check');
  return value;
}

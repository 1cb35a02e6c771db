import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../errors';

/**
 * Deepest array/object nesting in raw JSON bytes, stopping as soon as it passes `limit`. One pass,
 * no recursion, before JSON.parse: a 4 MB body of `[[[[...` costs JSON.parse almost half a second
 * and every recursive walk after it a stack overflow, so it is refused unparsed.
 */
export function exceedsJsonDepth(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export function jsonTooDeepError(limit: number): ApiError {
  return new ApiError(400, `The JSON body nests arrays and objects deeper than ${limit} levels.`, 'invalid_request_error', 'json_too_deep');
}

/**
 * express.json `verify` hook. body-parser decorates whatever is thrown here (it sets `type` and
 * `body` on it), so the ApiError rides along as `apiError` on a plain Error for the error handler.
 */
export function jsonDepthVerifier(limit: number): (req: IncomingMessage, res: ServerResponse, buf: Buffer) => void {
  return (_req, _res, buf) => {
    if (exceedsJsonDepth(buf, limit)) throw Object.assign(new Error('json too deep'), { status: 400, type: 'json.too_deep', apiError: jsonTooDeepError(limit) });
  };
}

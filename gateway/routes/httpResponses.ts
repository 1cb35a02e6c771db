import type { ServerResponse } from 'node:http';

/**
 * JSON answers written on node's own response, byte for byte what express's res.json / res.send
 * write (content type with its charset, length), so the guarded path needs no express response.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonBytes(res, status, Buffer.from(JSON.stringify(body), 'utf8'), false);
}

/** JSON already serialised (an engine answer relayed as it came). `retype`: its content type is set even if one was. */
export function sendJsonBytes(res: ServerResponse, status: number, bytes: Buffer, retype = true): void {
  res.statusCode = status;
  if (retype || !res.hasHeader('content-type')) res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(bytes.length));
  res.end(bytes);
}

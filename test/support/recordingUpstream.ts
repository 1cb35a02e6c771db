import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A real loopback "engine" that records every request it receives and is as lenient with paths as
 * the most forgiving server could be: it percent-decodes (several times), treats `\` as `/` and
 * resolves dot segments before routing. A chat completion it serves is therefore one that went
 * around the guards, if it ever came through the passthrough route.
 */
export interface Received {
  method: string;
  /** The request target exactly as it arrived. */
  rawUrl: string;
  /** What a lenient server makes of it. */
  resolvedPath: string;
  headers: http.IncomingHttpHeaders;
}

export interface RecordingUpstream {
  /** Base URL including /v1. */
  baseUrl: string;
  received: Received[];
  /** Requests (other than readiness pings) it answered as a chat or text completion. */
  completionsServed(): Received[];
  /** Every request but the gateway's own look at the model list (its health check at start and /readyz). */
  forwarded(): Received[];
  close(): Promise<void>;
}

export function lenientPath(rawUrl: string): string {
  let p = rawUrl.split('?')[0]!;
  for (let i = 0; i < 4; i++) {
    try {
      p = decodeURIComponent(p);
    } catch {
      break;
    }
  }
  return path.posix.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '').toLowerCase();
}

const COMPLETIONS = new Set(['/v1/chat/completions', '/v1/completions', '/v1/responses']);

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const record = { method: req.method ?? '', rawUrl: req.url ?? '', resolvedPath: lenientPath(req.url ?? '/'), headers: req.headers };
      received.push(record);
      res.setHeader('content-type', 'application/json');
      if (record.resolvedPath === '/v1/models') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'dev', object: 'model' }] }));
      if (COMPLETIONS.has(record.resolvedPath)) {
        return res.end(JSON.stringify({ id: 'chatcmpl-unguarded', object: 'chat.completion', model: 'dev', choices: [{ index: 0, message: { role: 'assistant', content: 'UNGUARDED ANSWER' }, finish_reason: 'stop' }] }));
      }
      res.end(JSON.stringify({ ok: true, path: record.resolvedPath }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received,
    completionsServed: () => received.filter((r) => COMPLETIONS.has(r.resolvedPath)),
    forwarded: () => received.filter((r) => !(r.method === 'GET' && r.resolvedPath === '/v1/models')),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An HTTP request with the request target sent exactly as written (fetch and the URL class would
 * resolve `..` and `%2e%2e` on the client side before sending).
 */
export function rawRequest(base: string, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path: target, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

/**
 * The yardstick of `npm run bench`: the least a JSON proxy in Node.js does. It reads the body,
 * JSON.parse-s it (as any proxy that looks at a request must), forwards its bytes with undici over
 * keep-alive connections, and relays the status and body. No checks, no record. Run as its own
 * process with the upstream's base URL as argument: prints its own base URL.
 */
export function startBareProxy(upstream: string, port = 0): Promise<string> {
  const agent = new Agent({ keepAliveTimeout: 60_000, connections: 128 });
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          const raw = Buffer.concat(chunks);
          // Parsed (a proxy that looks at requests must), then the bytes as received are sent on.
          if (req.method !== 'GET') JSON.parse(raw.toString('utf8'));
          const body = req.method === 'GET' ? undefined : raw;
          const answer = await request(`${upstream}${(req.url ?? '/').replace(/^\/v1/, '')}`, {
            method: req.method as 'GET' | 'POST',
            headers: body === undefined ? {} : { 'content-type': 'application/json' },
            body,
            dispatcher: agent,
          });
          const out = Buffer.from(await answer.body.arrayBuffer());
          res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json'), 'content-length': out.length });
          res.end(out);
        } catch {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end('{"error":{"message":"bad gateway"}}');
        }
      })();
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`)));
}

if (require.main === module) {
  const upstream = process.argv[2];
  if (!upstream) throw new Error('usage: bareProxy UPSTREAM_BASE_URL');
  void startBareProxy(upstream).then((url) => process.stdout.write(`listening ${url}\n`));
}

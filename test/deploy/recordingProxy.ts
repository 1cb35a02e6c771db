import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedExchange {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The upstream's answer body as it passed through. */
  response: string;
}

export interface RecordingProxy {
  /** Origin of the proxy (`http://127.0.0.1:PORT`), for an engine URL add `/v1`. */
  url: string;
  port: number;
  exchanges: RecordedExchange[];
  close(): Promise<void>;
}

/**
 * A real loopback reverse proxy that forwards every request unchanged to `target` (the dev
 * engine) and records what the gateway sent (headers included) and what came back, so a test can
 * read the traceparent an engine would see without changing the engine.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const exchanges: RecordedExchange[] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const exchange: RecordedExchange = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, response: '' };
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on('data', (chunk: Buffer) => {
        exchange.response += chunk.toString('utf8');
        res.write(chunk);
      });
      answer.on('end', () => {
        exchanges.push(exchange);
        res.end();
      });
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { onClientError } from '../../../gateway/access/hardening/clientErrors';

/**
 * A bad request pipelined behind one still being answered: node's parser stays in error and raises
 * `clientError` again for every later chunk. The gateway answers the bad one once, after the answer
 * before it, and does not pile up a listener per chunk on that answer.
 */
test('garbage chunks after a pipelined bad request: one error answer after the first, one listener', async () => {
  let pending: http.ServerResponse | undefined;
  let errors = 0;
  const server = http.createServer((_req, res) => {
    pending = res;
    setTimeout(() => res.end('first answer'), 800);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    errors++;
    onClientError(err, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  let got = '';
  client.on('data', (d) => (got += d.toString('latin1')));
  client.on('error', () => undefined);
  const closed = new Promise((r) => client.once('close', r));
  client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\nNOT HTTP\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));
  const listeners = pending!.listenerCount('finish');
  for (let i = 0; i < 15; i++) {
    await new Promise((r) => setTimeout(r, 20));
    if (!client.destroyed) client.write('more garbage\r\n');
  }
  expect(pending!.listenerCount('finish')).toBe(listeners);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 4000).unref())]);
  client.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  expect(errors).toBeGreaterThanOrEqual(1);
  expect(got.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 400']);
});

import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * `Expect: 100-continue` answered only once something reads the body. Node sends `100 Continue`
 * as the head arrives unless the server listens for `checkContinue`; that invites a client with
 * no key, over its rate limit or with a body over the limit to upload the whole body before it
 * is refused. Here the request goes to the app as any other, and the interim answer goes out on
 * the first read of the body (the JSON reader, a passthrough's pipe), which comes after the
 * access gate. A request refused before that gets its final status instead, and node closes the
 * connection rather than read a body the client was told not to send.
 */
export function continueOnFirstRead(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const read = req._read;
    let sent = false;
    req._read = function readAfterContinue(this: IncomingMessage, size: number) {
      if (!sent) {
        sent = true;
        // A response already begun (a refusal on its way) must not get an interim answer after it.
        if (!res.headersSent && !res.writableEnded) res.writeContinue();
      }
      return read.call(this, size);
    };
    server.emit('request', req, res);
  });
}

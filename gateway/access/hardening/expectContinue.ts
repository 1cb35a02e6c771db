import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * `Expect: 100-continue` answered only once something reads the body. Node sends `100 Continue`
 * as the head arrives unless the server listens for `checkContinue`; that invites a client with
 * no key, over its rate limit or with a body over the limit to upload the whole body before it
 * is refused. Here the request goes to the app as any other, and the interim answer goes out on
 * the first read of the body (the JSON reader, a passthrough's pipe), which comes after the
 * access gate. A request refused before that gets its final status instead, and node closes the
 * connection rather than read a body the client was told not to send.
 *
 * A client that sends its body without waiting (allowed: the 100 is only an invitation) gets the
 * interim answer as the body arrives, so node keeps its connection open as before; so does a
 * request that declares no body.
 */
export function continueOnFirstRead(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    let sent = false;
    const sendContinue = () => {
      if (sent) return;
      sent = true;
      // A response already begun (a refusal on its way) must not get an interim answer after it.
      if (!res.headersSent && !res.writableEnded) res.writeContinue();
    };
    if (!declaresBody(req)) sendContinue();
    else {
      const read = req._read;
      req._read = function readAfterContinue(this: IncomingMessage, size: number) {
        sendContinue();
        return read.call(this, size);
      };
      const push = req.push;
      req.push = function pushAfterContinue(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
        if (chunk !== null) sendContinue();
        return push.call(this, chunk, encoding);
      };
    }
    server.emit('request', req, res);
  });
}

/**
 * An `Expect` other than 100-continue: node would answer a bare 417 with no body. Refused as every
 * other malformed request head is, with an OpenAI-shaped error, before the app sees it.
 */
export function refuseUnknownExpectations(server: Server): void {
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify({
      error: { message: `The request's Expect header (${String(req.headers.expect).slice(0, 64)}) is not supported; only 100-continue is.`, type: 'invalid_request_error', param: null, code: 'expectation_failed' },
    });
    res.writeHead(417, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
}

function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { rateLimitError } from '../../../gateway/access/rateLimit/rateLimitError';
import { markCutByShutdown } from '../../../gateway/pipeline/connectionCut';
import { contextOf, startContext } from '../../../gateway/pipeline/requestContext';
import type { RejectionRecord } from '../../../gateway/record/requestRecord';
import { errorAnswerer } from '../../../gateway/routes/errorAnswer';

/**
 * A guarded request whose connection closed while its body was read: recorded as the client's
 * leaving (499 client_closed), or the gateway's shutdown (503 gateway_shutdown), never as a 400
 * nobody received; a refusal decided meanwhile (a 429) stays what it is.
 */
async function answered(err: unknown, cutByShutdown = false): Promise<RejectionRecord[]> {
  const socket = new Socket();
  const req = new IncomingMessage(socket);
  req.method = 'POST';
  req.url = '/v1/chat/completions';
  const res = new ServerResponse(req);
  res.assignSocket(socket);
  startContext(req, res);
  contextOf(res).guardedRoute = '/v1/chat/completions';
  if (cutByShutdown) markCutByShutdown(socket);
  socket.destroy();
  const recorded: RejectionRecord[] = [];
  const answer = errorAnswerer({
    policies: { current: () => ({ ref: 'p@1' }) } as never,
    recorder: { record: async () => undefined, recordRejection: async (r: RejectionRecord) => void recorded.push(r) } as never,
    bodyLimitBytes: 1 << 20,
    clientOf: () => undefined,
  });
  await answer(err, req, res);
  return recorded;
}
const aborted = () => Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400 });

test('cut by the client: 499 client_closed', async () => {
  expect(await answered(aborted())).toEqual([expect.objectContaining({ kind: 'invalid_request', status: 499, reason: 'client_closed' })]);
});

test('cut by shutdown: 503 gateway_shutdown, recorded too', async () => {
  expect(await answered(aborted(), true)).toEqual([expect.objectContaining({ kind: 'invalid_request', status: 503, reason: 'gateway_shutdown' })]);
});

test('a 429 decided after the client hung up stays a rate_limited record', async () => {
  expect(await answered(rateLimitError('requests', 10, 1, 1000))).toEqual([expect.objectContaining({ kind: 'rate_limited', status: 429 })]);
});

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { ConcurrencySlots } from '../../../gateway/access/rateLimit/concurrencySlots';
import { LimiterStore } from '../../../gateway/access/rateLimit/limiterStore';
import { requestLimits } from '../../../gateway/access/rateLimit/requestLimits';
import { tokenLimits } from '../../../gateway/access/rateLimit/tokenLimits';
import { contextOf } from '../../../gateway/pipeline/requestContext';
import { startContext } from '../../../gateway/pipeline/requestContext';

/** Node's own request and response objects, on a socket that is never connected. */
function exchange(): { req: IncomingMessage; res: ServerResponse } {
  const socket = new Socket();
  const req = new IncomingMessage(socket);
  const res = new ServerResponse(req);
  res.assignSocket(socket);
  const ctx = startContext(req, res);
  ctx.access = { subject: 'key:k1', limits: { concurrent_requests: 1 } } as typeof ctx.access;
  return { req, res };
}

describe('concurrency slots in the request limits', () => {
  const store = new LimiterStore({ keyPrefix: 't', durations: { requests: 60, tokens: 60 } });

  test('a slot is held until the response closes', async () => {
    const slots = new ConcurrencySlots({ keyPrefix: 't1', slotTtlMs: 60_000 });
    const limit = requestLimits(store, slots);
    const first = exchange();
    const next1 = jest.fn();
    await limit(first.req, first.res, next1);
    expect(next1).toHaveBeenCalledWith();
    const second = exchange();
    const next2 = jest.fn();
    await limit(second.req, second.res, next2);
    expect(next2.mock.calls[0][0]).toMatchObject({ status: 429 });
    first.res.destroy();
    await new Promise((r) => setImmediate(r));
    const third = exchange();
    const next3 = jest.fn();
    await limit(third.req, third.res, next3);
    expect(next3).toHaveBeenCalledWith();
  });

  test('a client gone before its slot was granted gives the slot back at once', async () => {
    const slots = new ConcurrencySlots({ keyPrefix: 't2', slotTtlMs: 60_000 });
    const limit = requestLimits(store, slots);
    const gone = exchange();
    gone.res.destroy(); // closed while the take was in flight
    await new Promise((r) => setImmediate(r));
    await limit(gone.req, gone.res, jest.fn());
    const next = jest.fn();
    const after = exchange();
    await limit(after.req, after.res, next);
    expect(next).toHaveBeenCalledWith();
  });
});

describe('token reservations in the request limits', () => {
  test('a client gone while its tokens were being taken is settled at once (charged its prompt), not held for the window', async () => {
    const store = new LimiterStore({ keyPrefix: 'tok', durations: { requests: 60, tokens: 60 } });
    const limit = tokenLimits({ store, limits: { context_tokens: 131_072, context_tokens_by_model: {} }, defaultMaxTokens: 4096 });
    const shape = { texts: ['hello there'], fixedTokens: 8, answers: 1, separateSequences: false, maxTokens: 500 };
    const gone = exchange();
    contextOf(gone.res).access = { subject: 'key:tok', limits: { tokens_per_minute: 1000 } } as NonNullable<ReturnType<typeof contextOf>['access']>;
    gone.res.destroy(); // closed while the take was in flight
    await new Promise((r) => setImmediate(r));
    await limit(contextOf(gone.res), gone.res, shape, 'messages');
    await new Promise((r) => setImmediate(r));
    // Its 500 answer tokens came back: another request reserving 900 fits the 1,000.
    const next = exchange();
    contextOf(next.res).access = { subject: 'key:tok', limits: { tokens_per_minute: 1000 } } as NonNullable<ReturnType<typeof contextOf>['access']>;
    await expect(limit(contextOf(next.res), next.res, { ...shape, maxTokens: 880 }, 'messages')).resolves.toBeUndefined();
  });
});

import type { GuardedCall } from '../pipeline/guardedCall';

/** No `connection` header of its own: node keeps the connection alive, or closes it when the client (or a draining gateway) asked for that. */
export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

/**
 * Sends the status line and headers of a stream, once (the verdict headers carry what is known at
 * this time); first, when the decision is not recorded yet, the stream's start (durable: a crash
 * mid-stream then leaves a trace).
 */
export async function openSse(call: GuardedCall): Promise<void> {
  if (call.res.headersSent) return;
  await call.recordStreamStart();
  if (call.res.headersSent) return;
  call.sendHeaders();
  call.res.writeHead(200, SSE_HEADERS);
  call.ctx.timing.answerStarted();
}

/** Writes with backpressure: a slow reader pauses the relay instead of growing a buffer. */
export { writeWithBackpressure as write } from '../responseWrite';

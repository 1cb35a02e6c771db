import type { GuardedCall } from '../pipeline/guardedCall';

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };

/** Sends the status line and headers of a stream, once (the verdict headers carry what is known at this time). */
export function openSse(call: GuardedCall): void {
  if (call.res.headersSent) return;
  call.sendHeaders();
  call.res.writeHead(200, SSE_HEADERS);
  call.ctx.timing.answerStarted();
}

/** Writes with backpressure: a slow reader pauses the relay instead of growing a buffer. */
export { writeWithBackpressure as write } from '../responseWrite';

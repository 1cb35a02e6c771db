import type { ServerResponse } from 'node:http';

/**
 * Writes with backpressure: a slow reader pauses the writer instead of growing a buffer. Settles
 * at once on a response that is already closed (its 'close' has fired and would never come again).
 */
export function writeWithBackpressure(res: ServerResponse, text: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  if (res.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

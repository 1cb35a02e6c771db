import type { IncomingMessage, ServerResponse } from 'node:http';

/** A connect-style handler on node's own request and response (express's are those, extended). */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => unknown;

/**
 * Several handlers as one express layer: each runs when the one before it calls next() without an
 * error; an error (passed to next, thrown, or a rejected promise) goes on to the app's error
 * handlers, as express does. Express would give each handler a router layer of its own, matched
 * against the path again on every request.
 */
export function handlerChain(...handlers: NodeHandler[]): NodeHandler {
  if (handlers.length === 1) return handlers[0];
  return (req, res, next) => {
    let index = 0;
    const step = (err?: unknown): void => {
      if (err) return next(err);
      const handler = handlers[index++];
      if (!handler) return next();
      try {
        const out: unknown = handler(req, res, step);
        if (out instanceof Promise) out.then(undefined, (e: unknown) => next(e ?? new Error('a request handler failed')));
      } catch (e) {
        next(e);
      }
    };
    step();
  };
}

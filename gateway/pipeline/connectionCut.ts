import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Sockets the gateway itself destroyed at the end of a shutdown's grace period. */
const cutByShutdown = new WeakSet<Socket>();

/** Called by the server as it destroys a busy socket at the end of the shutdown grace period. */
export function markCutByShutdown(socket: Socket): void {
  cutByShutdown.add(socket);
}

/**
 * Pure but for the mark above: what the record says of a request whose connection closed before
 * its answer was complete: the client's doing (499 client_closed) unless the gateway cut it while
 * shutting down (503 gateway_shutdown), so a reviewer does not blame the client for a deploy.
 */
export function connectionClosedOutcome(res: ServerResponse): { status: 499 | 503; error: { type: string; message: string } } {
  if (res.socket && cutByShutdown.has(res.socket)) {
    return { status: 503, error: { type: 'gateway_shutdown', message: 'the gateway shut down before the answer was complete (shutdown_grace_s ran out)' } };
  }
  return { status: 499, error: { type: 'client_closed', message: 'the client closed the connection' } };
}

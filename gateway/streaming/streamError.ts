import { ApiError } from '../errors';
import { connectionClosedOutcome } from '../pipeline/connectionCut';
import { engineApiError } from '../pipeline/engineErrors';
import type { GuardedCall } from '../pipeline/guardedCall';
import { write } from './sseWrite';

/** After bytes reached the client, a failure ends a chat stream cleanly with an OpenAI error event and `[DONE]`. */
export async function endStreamWithError(call: GuardedCall, err: unknown): Promise<void> {
  // A gateway error (e.g. the audit log failing: 503 audit_unavailable) keeps its own status and code.
  let apiError = err instanceof ApiError ? err : engineApiError(err);
  if (apiError.status === 499) {
    const closed = connectionClosedOutcome(call.res);
    await call.finish(closed.status, closed.error).catch(() => undefined);
    return;
  }
  try {
    await call.finish(apiError.status, { type: apiError.code ?? 'engine_error', message: apiError.message });
  } catch (recordErr) {
    // The record could not be written: the stream ends with that error (503 audit_unavailable).
    if (recordErr instanceof ApiError) apiError = recordErr;
  }
  if (call.res.writableEnded || call.res.destroyed) return;
  await write(call.res, `data: ${JSON.stringify(apiError.body())}\n\n`);
  call.res.end('data: [DONE]\n\n');
}

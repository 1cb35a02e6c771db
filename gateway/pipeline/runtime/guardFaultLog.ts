import type { Guard, GuardError } from '../../../guards/types';

/** How often the operator's log hears of one kind of a guard's failures. */
const FAULT_LOG_EVERY_MS = 60_000;
const faultLogs = new WeakMap<Guard, (error: GuardError, now: number) => void>();

/** Runs `run` once, `afterMs` from now, without keeping the process up for it. */
export type ScheduleOnce = (run: () => void, afterMs: number) => void;
const unrefTimer: ScheduleOnce = (run, afterMs) => {
  setTimeout(run, afterMs).unref();
};

/**
 * The operator's log hears of a guard's failures (the reason behind a 503 guard_unavailable or a
 * not-ready replica, which the client and /readyz give only in brief): the first of each kind, then
 * at most one line a minute per kind, saying how many it left out. A minute's count is logged when
 * the minute ends, not held until the next failure (which may never come, and then the log would
 * show one failure where there were hundreds). Guards keep request text out of their messages.
 */
export function logGuardFaults(guard: Guard, name: string, log: (line: string) => void, schedule: ScheduleOnce = unrefTimer): void {
  type Seen = { at: number; quiet: number; latest?: GuardError };
  const last = new Map<string, Seen>();
  const line = (error: GuardError, note: string) => `guard ${name} (${guard.model}) failed: ${error.type}: ${oneLine(error.message)}${note}`;
  const flushAtMinuteEnd = (type: string, seen: Seen, now: number) =>
    schedule(() => {
      // Logged already by a failure after the minute (then `last` holds another entry), or nothing left out.
      if (last.get(type) !== seen || seen.quiet === 0 || !seen.latest) return;
      log(line(seen.latest, ` (the latest of ${seen.quiet} like it in the ${FAULT_LOG_EVERY_MS / 1000} s after the last line)`));
      last.set(type, { at: seen.at + FAULT_LOG_EVERY_MS, quiet: 0 });
    }, seen.at + FAULT_LOG_EVERY_MS - now);
  faultLogs.set(guard, (error, now) => {
    const seen = last.get(error.type);
    if (seen && now - seen.at < FAULT_LOG_EVERY_MS) {
      seen.quiet++;
      seen.latest = error;
      if (seen.quiet === 1) flushAtMinuteEnd(error.type, seen, now);
      return;
    }
    const quiet = seen?.quiet ? ` (${seen.quiet} more like it in the last ${Math.round((now - seen.at) / 1000)} s)` : '';
    last.set(error.type, { at: now, quiet: 0 });
    log(line(error, quiet));
  });
}

/** A guard failed (guardHealth.ts says which failures count): told to its log, if it has one. */
export function noteGuardFault(guard: Guard, error: GuardError, now: number): void {
  faultLogs.get(guard)?.(error, now);
}

/** One line of at most 300 characters. */
export function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

import type { Guard, GuardError } from '../../../guards/types';

/** How often the operator's log hears of one kind of a guard's failures. */
const FAULT_LOG_EVERY_MS = 60_000;
const faultLogs = new WeakMap<Guard, (error: GuardError, now: number) => void>();

/**
 * The operator's log hears of a guard's failures (the reason behind a 503 guard_unavailable or a
 * not-ready replica, which the client and /readyz give only in brief): the first of each kind, then
 * at most one line a minute per kind, saying how many it left out. Guards keep request text out of
 * their messages.
 */
export function logGuardFaults(guard: Guard, name: string, log: (line: string) => void): void {
  const last = new Map<string, { at: number; quiet: number }>();
  faultLogs.set(guard, (error, now) => {
    const seen = last.get(error.type);
    if (seen && now - seen.at < FAULT_LOG_EVERY_MS) {
      seen.quiet++;
      return;
    }
    const quiet = seen?.quiet ? ` (${seen.quiet} more like it in the last ${Math.round((now - seen.at) / 1000)} s)` : '';
    last.set(error.type, { at: now, quiet: 0 });
    log(`guard ${name} (${guard.model}) failed: ${error.type}: ${oneLine(error.message)}${quiet}`);
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

import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who holds a lock file, and whether they are gone: shared by the audit directory's lock and the
 * keys file's. Pids alone cannot tell processes apart across containers (each runs node as pid 1
 * in its own pid namespace, where another's pid never looks alive) or hosts (a shared volume), so
 * a lock names its holder's host, pid namespace, pid and a token of its own, and a pid is only
 * checked where it means the same process.
 */
export interface LockHolder {
  host?: string;
  ns?: string;
  /** The holder's boot (Linux's boot_id): a lock left by an earlier boot has no holder, whatever process has its pid now. */
  boot?: string;
  pid?: number;
  token?: string;
}

/** This process's pid namespace (Linux). */
export const PID_NAMESPACE: string | undefined = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();

/** This boot of the machine (Linux): the init pid namespace and the host name stay the same across reboots, a pid does not mean the same process. */
export const BOOT_ID: string | undefined = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
})();

/** What this process writes into a lock it takes. */
export function lockContent(token: string): string {
  return `${JSON.stringify({ host: hostname(), ns: PID_NAMESPACE, boot: BOOT_ID, pid: process.pid, token })}\n`;
}

/** What a lock file says about its holder: JSON, or an older lock's bare pid (written on this host). */
export function parseLock(text: string): LockHolder {
  try {
    const parsed = JSON.parse(text) as { host?: unknown; ns?: unknown; boot?: unknown; pid?: unknown; token?: unknown };
    if (parsed && typeof parsed === 'object') {
      return {
        host: typeof parsed.host === 'string' ? parsed.host : undefined,
        ns: typeof parsed.ns === 'string' ? parsed.ns : undefined,
        boot: typeof parsed.boot === 'string' ? parsed.boot : undefined,
        pid: Number.isInteger(parsed.pid) ? (parsed.pid as number) : undefined,
        token: typeof parsed.token === 'string' ? parsed.token : undefined,
      };
    }
  } catch {
    /* an older lock: the pid alone */
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, ns: PID_NAMESPACE } : {};
}

/** Whether the holder's pid means a process of this host and pid namespace. */
export function sameHostAs(holder: LockHolder): boolean {
  return (holder.host === undefined || holder.host === hostname()) && holder.ns === PID_NAMESPACE;
}

/**
 * Whether a lock can be taken over: left by this very process (a run that did not clean up, or a
 * container's earlier pid 1), by a process of this host that is gone or by an earlier boot of it, or,
 * for a holder whose process cannot be seen (another host or pid namespace), untouched for `staleMs`. A holder of this host
 * that is alive keeps it however long it was silent: a paused process (docker pause, SIGSTOP, a VM
 * frozen, the clock stepped) writes on when it resumes, and two writers fork an audit chain.
 */
export function holderGone(holder: LockHolder, ageMs: number, staleMs: number): boolean {
  const same = sameHostAs(holder);
  if (same && holder.pid === process.pid) return true;
  // Left by an earlier boot (a power loss, a kill -9 before a reboot): its pid may be anyone's now.
  if (same && holder.boot !== undefined && BOOT_ID !== undefined && holder.boot !== BOOT_ID) return true;
  // A lock that does not say its boot (an older gateway's) is also taken over once untouched for `staleMs`.
  // Where this machine says its boot, a lock without one came from an older gateway; where it does not (not Linux), none has one.
  if (same && holder.pid !== undefined) return !alive(holder.pid) || (holder.boot === undefined && BOOT_ID !== undefined && ageMs > staleMs);
  return ageMs > staleMs;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

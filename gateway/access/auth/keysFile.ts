import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { holderGone, lockContent, parseLock } from '../../lockHolder';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { KeyLimits } from '../rateLimit/keyLimits';
import { APP_ID, KEY_HASH } from './keysConfig';

/** One key in the keys file. The key itself is never stored: only its SHA-256 hash. */
export const KeyEntry = z.strictObject({
  id: z.string().regex(/^key_[0-9a-f]{6,32}$/),
  hash: z.string().regex(KEY_HASH),
  /** First characters of the key, so an operator can tell which key a client holds. */
  prefix: z.string().max(16).optional(),
  app: z.string().regex(APP_ID),
  /** Policy id for this app's requests (per-app policy selection reads it from the request context). */
  policy: z.string().optional(),
  limits: KeyLimits.optional(),
  created_at: z.string().optional(),
  /** Set by `keys revoke`; a revoked key is refused (kept in the file for the audit trail). */
  revoked_at: z.string().optional(),
});
export type KeyEntry = z.infer<typeof KeyEntry>;

export const KeysFile = z.strictObject({
  keys: z.array(KeyEntry).default([]),
});
export type KeysFile = z.infer<typeof KeysFile>;

const HEADER = '# safety-gateway API keys, managed by `safety-gateway keys add|list|revoke`.\n# Keys are stored as SHA-256 hashes; `keys add` prints a new key once. Edits take effect without a restart.\n';

/** Parses keys-file text; throws with the first problem (the gateway then keeps the last good keys). */
export function parseKeysFile(text: string): KeysFile {
  const raw: unknown = parseYaml(text) ?? {};
  const result = KeysFile.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid keys file: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const seen = new Set<string>();
  for (const entry of result.data.keys) {
    if (seen.has(entry.id)) throw new Error(`invalid keys file: key id ${entry.id} appears twice`);
    seen.add(entry.id);
  }
  return result.data;
}

export function serializeKeysFile(doc: KeysFile): string {
  return HEADER + stringifyYaml(doc, { lineWidth: 0 });
}

/** Reads a keys file; a missing file is an empty key list (the first `keys add` creates it). */
export function readKeysFile(file: string): KeysFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw err;
  }
  return parseKeysFile(text);
}

/**
 * A keys file read again while the gateway runs: one that went missing or empty (a deploy that
 * lost it, an editor that truncates before writing) is refused rather than read as "no keys",
 * which would answer every request 401 with nothing in the log; the last good keys stay in force.
 * `keys: []` removes every key on purpose.
 */
export function rereadKeysFile(file: string): KeysFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('the file is gone (to remove every key, write `keys: []`)');
    throw err;
  }
  if (parseYaml(text) == null) throw new Error('the file is empty (to remove every key, write `keys: []`)');
  return parseKeysFile(text);
}

/**
 * Writes the whole file to a temporary sibling, then renames it over: readers never see half a
 * file. A new file is readable by its owner only (0600); one that exists keeps its owner, group
 * and group read (0640 at most): written as another user (`sudo keys revoke`), or without the
 * group a gateway reads it through, it would end up unreadable to the gateway, which then keeps
 * the old keys in force.
 */
export function writeKeysFile(file: string, doc: KeysFile): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const existing = statIfExists(file);
  writeFileSync(tmp, serializeKeysFile(doc), { mode: 0o600 });
  try {
    chmodSync(tmp, existing ? existing.mode & 0o640 : 0o600);
    if (existing && existing.uid !== process.getuid?.()) {
      try {
        chownSync(tmp, existing.uid, existing.gid);
      } catch (err) {
        throw new Error(`${file} belongs to uid ${existing.uid}; written as uid ${process.getuid?.()} it could become unreadable to the gateway (${(err as NodeJS.ErrnoException).code}): run this as the file's owner`);
      }
    } else if (existing && existing.gid !== process.getgid?.()) {
      // The owner writing: keep the group where it may (a member of it), else the owner alone reads it, as before.
      try {
        chownSync(tmp, existing.uid, existing.gid);
      } catch {
        // not a member of that group
      }
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or gone
    }
    throw err;
  }
}

/**
 * Read, change and write the keys file under an exclusive lock (`FILE.lock`), so two `keys add`
 * run at once both land: without it the second rename dropped the first key, after both had
 * printed theirs. The lock names its holder (gateway/lockHolder.ts): one whose process is gone
 * (on this host and pid namespace) is taken over at once, one from elsewhere (another container:
 * `docker run ... keys add` is pid 1 in each) after LOCK_STALE_MS untouched. A takeover is one
 * rename, read back, so of two waiters taking over at once one keeps it; the lock is removed only
 * by the holder that wrote it.
 */
export function updateKeysFile<T>(file: string, change: (doc: KeysFile) => { doc: KeysFile; result: T }): T {
  const lock = `${file}.lock`;
  const token = randomBytes(8).toString('hex');
  const mine = lockContent(token);
  const deadline = Date.now() + LOCK_STALE_MS + 5_000;
  for (;;) {
    try {
      writeFileSync(lock, mine, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = parseLock(readIfExists(lock) ?? '');
    const age = Date.now() - (statIfExists(lock)?.mtimeMs ?? Date.now());
    if (holderGone(holder, age, LOCK_STALE_MS) && takeOver(lock, mine, token)) break;
    if (Date.now() > deadline) throw new Error(`${lock} is held by another keys command (pid ${holder.pid ?? 'unknown'}${holder.host ? ` on ${holder.host}` : ''}); remove it if none is running`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  try {
    const { doc, result } = change(readKeysFile(file));
    writeKeysFile(file, doc);
    return result;
  } finally {
    // Only our own lock: never one another command wrote after taking ours over.
    if (parseLock(readIfExists(lock) ?? '').token === token) unlinkIfExists(lock);
  }
}

/** Keys commands take milliseconds: a lock untouched this long was left by one that died. */
const LOCK_STALE_MS = 30_000;

/** Replaces a dead holder's lock in one rename and reads it back: true when this command now holds it. */
function takeOver(lock: string, mine: string, token: string): boolean {
  const temp = `${lock}.${process.pid}.${token}`;
  writeFileSync(temp, mine, { mode: 0o600 });
  renameSync(temp, lock);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  return parseLock(readIfExists(lock) ?? '').token === token;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function unlinkIfExists(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function statIfExists(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function addKey(doc: KeysFile, entry: KeyEntry): KeysFile {
  return { keys: [...doc.keys, entry] };
}

/** Marks the key with this id (or display prefix) revoked; throws when none or several match. */
export function revokeKey(doc: KeysFile, idOrPrefix: string, now: Date): { doc: KeysFile; revoked: KeyEntry } {
  const needle = idOrPrefix.replace(/\.\.\.$/, '');
  const matches = doc.keys.filter((k) => k.id === needle || (needle.length >= 8 && k.prefix?.replace(/\.\.\.$/, '') === needle));
  if (matches.length === 0) throw new Error(`no key with id ${idOrPrefix}`);
  if (matches.length > 1) throw new Error(`${matches.length} keys match ${idOrPrefix}; use the key id`);
  const target = matches[0];
  if (target.revoked_at) return { doc, revoked: target };
  const revoked = { ...target, revoked_at: now.toISOString() };
  return { doc: { keys: doc.keys.map((k) => (k === target ? revoked : k)) }, revoked };
}

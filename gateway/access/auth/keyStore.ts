import { statSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { KeyLimits } from '../rateLimit/keyLimits';
import { hashApiKey, hashesEqual } from './apiKey';
import { inlineKeyIds, type KeysConfig } from './keysConfig';
import { readKeysFile, rereadKeysFile, type KeysFile } from './keysFile';

/** Who a valid key belongs to: what auth puts in the request context. */
export interface KeyIdentity {
  keyId: string;
  app: string;
  policy?: string;
  limits?: KeyLimits;
}

interface IndexedKey extends KeyIdentity {
  hash: string;
}

/** Builds the lookup index from the file's keys and the inline (config / environment) keys. Revoked keys are left out. */
export function indexKeys(file: KeysFile, inline: KeysConfig['inline']): Map<string, IndexedKey> {
  const index = new Map<string, IndexedKey>();
  for (const k of file.keys) if (!k.revoked_at) index.set(k.hash, { keyId: k.id, app: k.app, policy: k.policy, limits: k.limits, hash: k.hash });
  inlineKeyIds(inline).forEach((keyId, i) => {
    const k = inline[i];
    index.set(k.hash, { keyId, app: k.app, policy: k.policy, limits: k.limits, hash: k.hash });
  });
  return index;
}

/** What identifies one version of a file cheaply (inode, size, mtime); undefined when it cannot be read. */
function fileIdentity(file: string): string | undefined {
  try {
    const st = statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * The API keys in force. The keys file is re-read when it changes (polled with stat, which also
 * sees the rename that `keys` CLI writes use), so `keys revoke` applies without a restart. A file
 * that fails to parse is reported and the last good keys stay in force.
 */
export class KeyStore {
  private index = new Map<string, IndexedKey>();
  private listener: ((curr: Stats, prev: Stats) => void) | undefined;
  /** The keys file as last read (inode, size, mtime), to tell whether it changed since. */
  private loaded: string | undefined;

  constructor(
    private readonly config: KeysConfig,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** True when any key source is configured: the gateway then requires a key on /v1. */
  get enabled(): boolean {
    return this.config.file !== undefined || this.config.inline.length > 0;
  }

  get size(): number {
    return this.index.size;
  }

  /** First load: a broken keys file stops the start (there is no last good version yet); a missing one is no keys yet. */
  load(reloading = false): void {
    const seen = this.config.file ? fileIdentity(this.config.file) : undefined;
    // Said at start: every request is answered 401 until the file appears (it is read as soon as it does).
    if (this.config.file && !reloading && seen === undefined && this.config.inline.length === 0) this.log(`keys: ${this.config.file} does not exist yet: no keys, every /v1 request is refused 401 until it is written (\`safety-gateway keys add --file ${this.config.file} ...\`)`);
    const file = this.config.file ? (reloading ? rereadKeysFile : readKeysFile)(this.config.file) : { keys: [] };
    this.index = indexKeys(file, this.config.inline);
    this.loaded = seen;
  }

  /** The policy ids keys are assigned (an app's requests run under its key's policy). */
  assignedPolicies(): Map<string, string[]> {
    const byPolicy = new Map<string, string[]>();
    // An empty id too (written by keys add before it refused one): every request of that key is refused, so it is warned of.
    for (const k of this.index.values()) if (k.policy !== undefined) byPolicy.set(k.policy, [...(byPolicy.get(k.policy) ?? []), k.app]);
    return byPolicy;
  }

  /** Called after every successful reload of the keys file. */
  onReload?: () => void;

  /** Re-reads the file; keeps the current keys if the new file is invalid. */
  reload(): void {
    try {
      this.load(true);
      this.onReload?.();
    } catch (err) {
      this.log(`keys: ${this.config.file} not reloaded, the previous keys stay in force: ${(err as Error).message}`);
    }
  }

  watch(): void {
    const file = this.config.file;
    if (!file || this.listener) return;
    this.listener = (curr, prev) => {
      if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) this.reload();
    };
    watchFile(file, { interval: this.config.reload_interval_ms, persistent: false }, this.listener);
    // The poller's first stat is its baseline, taken a moment later: a file replaced in between (a
    // `keys add` right after start) would never count as a change. Compare once with what was loaded.
    setTimeout(() => {
      if (this.listener && fileIdentity(file) !== this.loaded) this.reload();
    }, this.config.reload_interval_ms).unref();
  }

  /**
   * The identity of a presented key, or undefined. The index is keyed by the key's SHA-256, so a
   * lookup's timing depends only on digests of the caller's own guess, never on a stored key; the
   * final check is a constant-time comparison of the digests.
   */
  lookup(key: string): KeyIdentity | undefined {
    const hash = hashApiKey(key);
    const candidate = this.index.get(hash);
    if (!candidate || !hashesEqual(candidate.hash, hash)) return undefined;
    const { hash: _omit, ...identity } = candidate;
    return identity;
  }

  close(): void {
    // Only this store's listener: another gateway in the process may watch the same file.
    if (this.config.file && this.listener) unwatchFile(this.config.file, this.listener);
    this.listener = undefined;
  }
}

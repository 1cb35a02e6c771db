import { watch, type FSWatcher } from 'node:fs';

export interface PolicyWatcherOptions {
  /** Quiet time after the last change before `onChange` runs: an editor's save is several events. */
  debounceMs: number;
  onChange: () => void;
  /** A directory that could not be watched (deleted, no permission); watching the others goes on. */
  onError?: (directory: string, error: Error) => void;
}

export interface PolicyWatcher {
  /** Watches exactly these directories from now on (adds new ones, drops the rest). */
  watch(directories: readonly string[]): void;
  close(): void;
}

/**
 * Watches the directories that hold policy files, not the files: editors save by writing a new
 * file and renaming it over the old one, which ends a watch on the old file's inode but shows up
 * as an event in its directory. Events are debounced into one `onChange`.
 */
export function createPolicyWatcher(options: PolicyWatcherOptions): PolicyWatcher {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) options.onChange();
    }, options.debounceMs);
    // The watcher alone never keeps the process alive; the server does.
    timer.unref();
  };

  const drop = (directory: string) => {
    watchers.get(directory)?.close();
    watchers.delete(directory);
  };

  return {
    watch(directories) {
      if (closed) return;
      const wanted = new Set(directories);
      for (const directory of [...watchers.keys()]) if (!wanted.has(directory)) drop(directory);
      for (const directory of wanted) {
        if (watchers.has(directory)) continue;
        try {
          const watcher = watch(directory, { persistent: false }, (_event, filename) => {
            if (isPolicyFileEvent(filename)) schedule();
          });
          watcher.on('error', (err) => {
            drop(directory);
            options.onError?.(directory, err);
          });
          watchers.set(directory, watcher);
        } catch (err) {
          options.onError?.(directory, err as Error);
        }
      }
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const directory of [...watchers.keys()]) drop(directory);
    },
  };
}

/**
 * Pure: whether a change event may concern a policy file. Other files in the same directory (an
 * audit log next to the policy, say) would otherwise reload the policy on every write. Some
 * platforms report no file name; then anything may have changed.
 *
 * A Kubernetes ConfigMap (or Secret) volume updates by writing a new `..<timestamp>` directory and
 * renaming a `..data` symlink onto it; the `policy.yaml -> ..data/policy.yaml` links themselves
 * never change, so the `..data` swap is the only event a new policy version makes.
 */
export function isPolicyFileEvent(filename: string | Buffer | null | undefined): boolean {
  if (filename === null || filename === undefined) return true;
  const name = String(filename);
  return /\.ya?ml$/i.test(name) || name === '..data';
}

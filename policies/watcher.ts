import { statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface PolicyWatcherOptions {
  /** Quiet time after the last change before `onChange` runs: an editor's save is several events. */
  debounceMs: number;
  onChange: () => void;
  /** A directory that could not be watched (deleted, no permission); watching the others goes on. */
  onError?: (directory: string, error: Error) => void;
}

export interface PolicyWatcher {
  /**
   * Watches exactly these directories from now on (adds new ones, drops the rest, and watches again
   * one that was replaced or re-pointed since). `listed`: folders the policies list by name (there
   * or not): their appearance, replacement or re-pointing in their parent is a change too.
   */
  watch(directories: readonly string[], listed?: readonly string[]): void;
  close(): void;
}

/**
 * Watches the directories that hold policy files, not the files: editors save by writing a new
 * file and renaming it over the old one, which ends a watch on the old file's inode but shows up
 * as an event in its directory. Events are debounced into one `onChange`. A watch follows the
 * folder it was made on, not its name: a folder replaced by a deploy (`rm -rf apps && mv apps.new
 * apps`) or re-pointed by a link (`ln -sfn rel2 apps`) is watched again at the next reload, which
 * the swap's own event in the parent starts.
 */
export function createPolicyWatcher(options: PolicyWatcherOptions): PolicyWatcher {
  /** Per directory, its watch and the folder it watches (folderOf). */
  const watchers = new Map<string, { watcher: FSWatcher; folder: string }>();
  let named: readonly string[] = [];
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
    watchers.get(directory)?.watcher.close();
    watchers.delete(directory);
  };

  return {
    watch(directories, listed = []) {
      if (closed) return;
      const wanted = new Set(directories);
      named = [...new Set([...directories, ...listed])];
      for (const directory of [...watchers.keys()]) if (!wanted.has(directory) || folderOf(directory) !== watchers.get(directory)?.folder) drop(directory);
      for (const directory of wanted) {
        if (watchers.has(directory)) continue;
        try {
          const folder = folderOf(directory);
          const watcher = watch(directory, { persistent: false }, (_event, filename) => {
            // An event naming the watched folder itself: it was moved or deleted (`mv apps apps.old`), and a
            // folder may stand under its name now; the reload that follows watches that one.
            const itself = filename !== null && filename !== undefined && String(filename) === path.basename(directory);
            const toNamed = leadsToNamed(directory, filename, named);
            // A watched folder named in its parent was replaced or re-pointed: its watch follows the old one, so it goes (the reload makes it again).
            if (toNamed) drop(path.join(directory, String(filename)));
            if (isPolicyFileEvent(filename) || itself || toNamed) schedule();
          });
          watcher.on('error', (err) => {
            drop(directory);
            options.onError?.(directory, err);
          });
          watchers.set(directory, { watcher, folder: folder ?? '' });
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
 * The folder a path names now (links followed): device, inode and birth time, since a file system
 * hands a folder made right after a deletion the inode just freed (`rm -rf apps && mkdir apps`);
 * undefined when nothing is there.
 */
function folderOf(directory: string): string | undefined {
  try {
    const st = statSync(directory);
    return `${st.dev}:${st.ino}:${st.birthtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Pure: whether an event in `directory` names a watched or listed folder, or a folder on the way to one. */
export function leadsToNamed(directory: string, filename: string | Buffer | null | undefined, named: readonly string[]): boolean {
  if (filename === null || filename === undefined) return false;
  const changed = path.join(directory, String(filename));
  return named.some((p) => p === changed || p.startsWith(changed + path.sep));
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

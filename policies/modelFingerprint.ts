import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { GuardSpec } from './schema';

/**
 * What identifies a local model directory's contents cheaply: every file's name, size and
 * modification time (the directory and its `onnx/` folder), hashed. A model replaced on disk
 * (recalibrated, retrained) changes it, so the policy version and the guard built from it change
 * too; the same files at another path do not. Reading every byte would cost seconds for Meta's
 * exports at each reload; a copy that keeps contents but not times only bumps the version.
 * Undefined for a directory that cannot be read (the guard's load reports that).
 */
export function modelFingerprint(dir: string): string | undefined {
  try {
    const hash = createHash('sha256');
    for (const folder of [dir, path.join(dir, 'onnx')]) {
      let names: string[];
      try {
        names = readdirSync(folder).sort();
      } catch {
        if (folder === dir) return undefined;
        continue;
      }
      for (const name of names) {
        const st = statSync(path.join(folder, name));
        if (!st.isFile()) continue;
        hash.update(`${path.relative(dir, path.join(folder, name))}\u0000${st.size}\u0000${Math.round(st.mtimeMs)}\n`);
      }
    }
    return hash.digest('hex').slice(0, 16);
  } catch {
    return undefined;
  }
}

/** Whether a guard reads its model from a local directory (not a served model name). */
export function hasLocalModel(spec: GuardSpec): boolean {
  if (spec.type === 'prompt_guard') return spec.backend === undefined || spec.backend === 'onnx';
  return spec.backend !== 'openai';
}

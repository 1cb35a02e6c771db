import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { keysCommand } from '../../gateway/cli/keysCommand';

/** Runs `safety-gateway keys ...` in-process, capturing its output. */
export async function keysCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await keysCommand(args, { out: (t) => (out += t), err: (t) => (err += t), env: {}, now: () => new Date() });
  return { code, out, err };
}

export function tempKeysFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'sg-keys-')), 'keys.yaml');
}

/** Adds a key with `keys add` and returns the printed key. */
export async function addKey(file: string, app: string, extra: string[] = []): Promise<string> {
  const { code, out, err } = await keysCli(['add', '--file', file, '--app', app, ...extra]);
  if (code !== 0) throw new Error(`keys add failed: ${err}`);
  return out.trim();
}

/** Polls until `check` holds (for changes picked up by file watching); fails with `what` if it never does. */
export async function eventually(check: () => Promise<boolean>, what: string, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

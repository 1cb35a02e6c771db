import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { displayPrefix, generateApiKey, generateKeyId, hashApiKey } from '../access/auth/apiKey';
import { APP_ID } from '../access/auth/keysConfig';
import { addKey, KeyEntry, readKeysFile, revokeKey, updateKeysFile } from '../access/auth/keysFile';
import type { KeyLimits } from '../access/rateLimit/keyLimits';

export interface KeysIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => Date;
}

const defaultIo: KeysIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  now: () => new Date(),
};

const USAGE = `usage:
  safety-gateway keys add --app APP [--policy ID] [--rpm N] [--tpm N] [--concurrency N] [--file FILE]
  safety-gateway keys list [--file FILE] [--json]
  safety-gateway keys revoke KEY_ID [--file FILE]
The file is --file, else SAFETY_KEYS_FILE, else ./keys.yaml. A running gateway picks up changes without a restart.
`;

/** `safety-gateway keys add|list|revoke`: manages the keys file (hashes only; `add` prints the new key once). */
export async function keysCommand(args: string[], io: KeysIo = defaultIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' || args.includes('--help') || args.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        file: { type: 'string' },
        app: { type: 'string' },
        policy: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        concurrency: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (err) {
    io.err(`safety-gateway keys: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const file = path.resolve(values.file ?? io.env.SAFETY_KEYS_FILE ?? 'keys.yaml');
  try {
    switch (sub) {
      case 'add':
        return add(file, values, io);
      case 'list':
        // A file that is not there is a typo more often than an empty key list: say which file was read.
        if (!existsSync(file)) throw new Error(`${file} does not exist (no keys yet: keys add creates it)`);
        return list(file, values.json === true, io);
      case 'revoke':
        if (positionals.length !== 1) throw new UsageError('revoke takes one key id (see keys list)');
        return revoke(file, positionals[0], io);
      default:
        io.err(sub ? `safety-gateway keys: unknown subcommand "${sub}"\n${USAGE}` : USAGE);
        return sub ? 2 : 1;
    }
  } catch (err) {
    io.err(`safety-gateway keys: ${(err as Error).message}\n${err instanceof UsageError ? USAGE : ''}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

class UsageError extends Error {}

function add(file: string, values: Record<string, string | boolean | undefined>, io: KeysIo): number {
  const app = values.app;
  if (typeof app !== 'string' || !APP_ID.test(app)) throw new UsageError('--app is required: letters, digits, . _ - (the app id recorded with every decision)');
  const limits: KeyLimits = {};
  const count = (flag: string, name: keyof KeyLimits) => {
    const v = values[flag];
    if (v === undefined) return;
    const n = Number(v);
    // Safe integers only: the keys file's schema refuses a larger one, and the file would stop loading.
    if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${flag} must be a positive whole number up to ${Number.MAX_SAFE_INTEGER}`);
    limits[name] = n;
  };
  count('rpm', 'requests_per_minute');
  count('tpm', 'tokens_per_minute');
  count('concurrency', 'concurrent_requests');
  // `--policy "$POLICY"` with the variable unset: a key every request of which would be refused.
  if (typeof values.policy === 'string' && values.policy.trim() === '') throw new UsageError('--policy needs a policy id (leave it out for the main policy)');
  const key = generateApiKey();
  const entry: KeyEntry = {
    id: generateKeyId(),
    hash: hashApiKey(key),
    prefix: displayPrefix(key),
    app,
    ...(typeof values.policy === 'string' ? { policy: values.policy } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
    created_at: io.now().toISOString(),
  };
  // Checked as the gateway will read it, before the file is written: a bad entry makes the whole file unreadable.
  const checked = KeyEntry.safeParse(entry);
  if (!checked.success) throw new UsageError(checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  updateKeysFile(file, (doc) => ({ doc: addKey(doc, entry), result: undefined }));
  // The key alone on stdout (scripts capture it); everything else on stderr.
  io.out(`${key}\n`);
  io.err(`added ${entry.id} for app ${app} to ${file}\nThis is the only time the key is shown: store it now. The file keeps only its hash.\n`);
  return 0;
}

function list(file: string, json: boolean, io: KeysIo): number {
  const rows = readKeysFile(file).keys.map((k) => ({
    id: k.id,
    prefix: k.prefix ?? '',
    app: k.app,
    policy: k.policy ?? '',
    limits: k.limits ?? {},
    created_at: k.created_at ?? '',
    status: k.revoked_at ? `revoked ${k.revoked_at}` : 'active',
  }));
  if (json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.err(`no keys in ${file}\n`);
    return 0;
  }
  const limitText = (l: KeyLimits) => [l.requests_per_minute && `rpm=${l.requests_per_minute}`, l.tokens_per_minute && `tpm=${l.tokens_per_minute}`, l.concurrent_requests && `concurrency=${l.concurrent_requests}`].filter(Boolean).join(' ') || '(defaults)';
  const table = [['ID', 'PREFIX', 'APP', 'POLICY', 'LIMITS', 'CREATED', 'STATUS'], ...rows.map((r) => [r.id, r.prefix, r.app, r.policy || '-', limitText(r.limits), r.created_at, r.status])];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  io.out(`${table.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n')}\n`);
  return 0;
}

function revoke(file: string, id: string, io: KeysIo): number {
  const revoked = updateKeysFile(file, (current) => {
    const { doc, revoked: entry } = revokeKey(current, id, io.now());
    return { doc, result: entry };
  });
  io.err(`revoked ${revoked.id} (app ${revoked.app}) in ${file}; running gateways refuse it once they see the change\n`);
  return 0;
}

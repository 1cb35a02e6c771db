import { chmodSync, chownSync, existsSync, utimesSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashApiKey } from '../../../gateway/access/auth/apiKey';
import { runCli } from '../../support/cliProcess';
import { keysCli, tempKeysFile } from '../../support/keys';
import { addKey, parseKeysFile, readKeysFile, revokeKey, serializeKeysFile, updateKeysFile, writeKeysFile, type KeyEntry } from '../../../gateway/access/auth/keysFile';

const entry = (id: string, extra: Partial<KeyEntry> = {}): KeyEntry => ({ id, hash: hashApiKey(id), prefix: `sk-sg-${id.slice(4, 8)}...`, app: 'app-1', created_at: '2025-01-01T00:00:00.000Z', ...extra });

describe('keys file', () => {
  test('serialize then parse gives the same keys back', () => {
    const doc = { keys: [entry('key_aaaa01', { policy: 'strict', limits: { requests_per_minute: 5 } }), entry('key_bbbb02')] };
    expect(parseKeysFile(serializeKeysFile(doc))).toEqual(doc);
  });

  test('an empty or missing file is no keys', () => {
    expect(parseKeysFile('')).toEqual({ keys: [] });
    expect(readKeysFile(path.join(tmpdir(), 'does-not-exist-sg-keys.yaml'))).toEqual({ keys: [] });
  });

  test('a clear key, an unknown field or a duplicate id is refused with the place of the problem', () => {
    expect(() => parseKeysFile('keys:\n  - id: key_aaaa01\n    key: sk-sg-plain\n    app: a\n')).toThrow(/keys\.0/);
    expect(() => parseKeysFile('keys:\n  - id: key_aaaa01\n    hash: md5:abc\n    app: a\n')).toThrow(/keys\.0\.hash/);
    const dup = serializeKeysFile({ keys: [entry('key_aaaa01'), entry('key_aaaa01')] });
    expect(() => parseKeysFile(dup)).toThrow(/appears twice/);
  });

  test('revoke by id or by display prefix marks the key, keeps it, and is idempotent', () => {
    const now = new Date('2025-06-01T00:00:00Z');
    let doc = addKey({ keys: [] }, entry('key_aaaa01'));
    doc = addKey(doc, entry('key_bbbb02'));
    const { doc: after, revoked } = revokeKey(doc, 'key_bbbb02', now);
    expect(revoked.id).toBe('key_bbbb02');
    expect(after.keys).toHaveLength(2);
    expect(after.keys[1].revoked_at).toBe(now.toISOString());
    expect(after.keys[0].revoked_at).toBeUndefined();
    expect(revokeKey(after, 'key_bbbb02', new Date()).doc.keys[1].revoked_at).toBe(now.toISOString());
    expect(revokeKey(doc, 'sk-sg-aaaa...', now).revoked.id).toBe('key_aaaa01');
    expect(() => revokeKey(doc, 'key_cccc03', now)).toThrow(/no key/);
  });

  test('writes are atomic renames; a new file is readable by its owner only, an existing one keeps group read and never others', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-keys-'));
    const file = path.join(dir, 'keys.yaml');
    writeKeysFile(file, { keys: [entry('key_aaaa01')] });
    expect(readKeysFile(file).keys[0].id).toBe('key_aaaa01');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^# safety-gateway API keys/);
    writeFileSync(file, 'old', { mode: 0o644 });
    chmodSync(file, 0o644);
    writeKeysFile(file, { keys: [entry('key_aaaa01')] });
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  test('a lock from another host or container is waited on while fresh, and taken over once untouched for 30 s', () => {
    const file = tempKeysFile();
    writeFileSync(`${file}.lock`, JSON.stringify({ host: 'another-container', ns: 'pid:[1]', pid: 1, token: 'theirs' }));
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    expect(updateKeysFile(file, (doc) => ({ doc: addKey(doc, entry('key_aaaa02')), result: 'taken over' }))).toBe('taken over');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  test('a lock left by a process that is gone is taken over; the lock is removed after the change', () => {
    const file = tempKeysFile();
    writeFileSync(`${file}.lock`, '2147483646');
    const result = updateKeysFile(file, (doc) => ({ doc: addKey(doc, entry('key_aaaa01')), result: 'done' }));
    expect(result).toBe('done');
    expect(readKeysFile(file).keys.map((k) => k.id)).toEqual(['key_aaaa01']);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  const asRoot = process.getuid?.() === 0;
  (asRoot ? test : test.skip)('a file written by root for a gateway running as another user keeps that owner (run as root)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-keys-'));
    const file = path.join(dir, 'keys.yaml');
    writeKeysFile(file, { keys: [entry('key_aaaa01')] });
    chownSync(file, 1000, 1000);
    writeKeysFile(file, { keys: [entry('key_aaaa01'), entry('key_bbbb02')] });
    expect(statSync(file)).toMatchObject({ uid: 1000, gid: 1000 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('keys add refuses what would make the file unreadable or the key useless, and the file stays usable', async () => {
    const file = tempKeysFile();
    const good = await keysCli(['add', '--file', file, '--app', 'ok-app']);
    expect(good.code).toBe(0);
    // Above 2^53 the file's schema refuses the limit, and every later keys command (revoke included) failed.
    const huge = await keysCli(['add', '--file', file, '--app', 'big', '--tpm', '10000000000000000']);
    expect(huge).toMatchObject({ code: 2, out: '' });
    expect(huge.err).toMatch(/--tpm must be a positive whole number up to 9007199254740991/);
    // `--policy "$POLICY"` with the variable unset: every request of the key would be refused.
    for (const blank of ['', ' ']) {
      const empty = await keysCli(['add', '--file', file, '--app', 'p', '--policy', blank]);
      expect(empty).toMatchObject({ code: 2, out: '' });
      expect(empty.err).toMatch(/--policy needs a policy id/);
    }
    expect(readKeysFile(file).keys.map((k) => k.app)).toEqual(['ok-app']);
    expect((await keysCli(['list', '--file', file])).code).toBe(0);
    // A file an earlier version wrote with an empty policy still loads (that key is refused per request and warned of at start), and can be revoked.
    writeFileSync(file, `keys:\n  - id: key_abcdef\n    hash: ${hashApiKey('k')}\n    app: a\n    policy: ""\n`);
    expect(readKeysFile(file).keys[0]!.policy).toBe('');
    expect((await keysCli(['revoke', '--file', file, 'key_abcdef'])).code).toBe(0);
  });

  test('keys added at once all land (the file is locked around each change)', async () => {
    const file = tempKeysFile();
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => runCli(['keys', 'add', '--file', file, '--app', `app-${i}`])));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    const printed = runs.map((r) => hashApiKey(r.stdout.trim())).sort();
    expect(readKeysFile(file).keys.map((k) => k.hash).sort()).toEqual(printed);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

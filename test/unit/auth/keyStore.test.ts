import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateApiKey, hashApiKey } from '../../../gateway/access/auth/apiKey';
import { inlineKeyIds, KeysConfig } from '../../../gateway/access/auth/keysConfig';
import { writeKeysFile } from '../../../gateway/access/auth/keysFile';
import { indexKeys, KeyStore } from '../../../gateway/access/auth/keyStore';

describe('key store', () => {
  const live = generateApiKey();
  const revoked = generateApiKey();
  const fileKeys = {
    keys: [
      { id: 'key_000001', hash: hashApiKey(live), app: 'web', policy: 'strict', limits: { requests_per_minute: 7 } },
      { id: 'key_000002', hash: hashApiKey(revoked), app: 'old', revoked_at: '2025-01-01T00:00:00Z' },
    ],
  };

  test('revoked keys are not indexed; inline keys are', () => {
    const index = indexKeys(fileKeys, [{ app: 'cli', hash: hashApiKey('inline-key-123456') }]);
    expect([...index.values()].map((k) => k.app).sort()).toEqual(['cli', 'web']);
  });

  test('inline key ids say which key, never anything computed from the key', () => {
    const inline = [
      { app: 'cli', hash: hashApiKey('inline-key-123456') },
      { app: 'web', hash: hashApiKey('inline-key-abcdef'), id: 'web-rotation-2026' },
      { app: 'cli', hash: hashApiKey('inline-key-654321') },
    ];
    expect(inlineKeyIds(inline)).toEqual(['inline_cli_1', 'inline_web-rotation-2026', 'inline_cli_2']);
    const ids = [...indexKeys({ keys: [] }, inline).values()].map((k) => k.keyId);
    for (const k of inline) expect(ids.some((id) => id.includes(k.hash.slice(7, 15)))).toBe(false);
    expect(KeysConfig.safeParse({ inline: [inline[1], { ...inline[0], id: 'web-rotation-2026' }] }).success).toBe(false);
    // An explicit id may not take the automatic id of another key.
    expect(KeysConfig.safeParse({ inline: [inline[0], { ...inline[1], id: 'cli_1' }] }).success).toBe(false);
    expect(KeysConfig.safeParse({ inline }).success).toBe(true);
  });

  test('lookup answers the identity of a valid key and nothing for others', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-store-'));
    const file = path.join(dir, 'keys.yaml');
    writeKeysFile(file, fileKeys);
    const store = new KeyStore(KeysConfig.parse({ file }));
    store.load();
    expect(store.enabled).toBe(true);
    expect(store.lookup(live)).toEqual({ keyId: 'key_000001', app: 'web', policy: 'strict', limits: { requests_per_minute: 7 } });
    expect(store.lookup(revoked)).toBeUndefined();
    expect(store.lookup(`${live}x`)).toBeUndefined();
    expect(store.lookup('')).toBeUndefined();
  });

  test('a key assigned an empty policy id (written by an earlier keys add) is listed among the assignments, so the start warns of it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-store-'));
    const file = path.join(dir, 'keys.yaml');
    writeKeysFile(file, { keys: [...fileKeys.keys, { id: 'key_000003', hash: hashApiKey('blank-policy-key-1'), app: 'blank', policy: '' }] });
    const store = new KeyStore(KeysConfig.parse({ file }));
    store.load();
    expect(store.assignedPolicies().get('')).toEqual(['blank']);
  });

  /** A store loaded from a keys file holding fileKeys, and the lines it logs. */
  function loadedStore(): { dir: string; file: string; store: KeyStore; lines: string[] } {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-store-'));
    const file = path.join(dir, 'keys.yaml');
    writeKeysFile(file, fileKeys);
    const lines: string[] = [];
    const store = new KeyStore(KeysConfig.parse({ file }), (l) => lines.push(l));
    store.load();
    return { dir, file, store, lines };
  }

  test('a broken file on reload keeps the last good keys', () => {
    const { file, store, lines } = loadedStore();
    writeFileSync(file, 'keys: [ {');
    store.reload();
    expect(store.lookup(live)?.app).toBe('web');
    expect(lines.join('\n')).toMatch(/not reloaded, the previous keys stay in force/);
  });

  test('a file gone or emptied on reload keeps the last good keys and says so; `keys: []` removes them on purpose', () => {
    const { dir, file, store, lines } = loadedStore();
    for (const emptied of ['', '# nothing here\n', '  \n']) {
      writeFileSync(file, emptied);
      store.reload();
      expect(store.lookup(live)?.app).toBe('web');
    }
    expect(lines.at(-1)).toMatch(/not reloaded, the previous keys stay in force: the file is empty/);
    rmSync(file);
    store.reload();
    expect(store.lookup(live)?.app).toBe('web');
    expect(lines.at(-1)).toMatch(/the file is gone/);
    writeFileSync(file, 'keys: []\n');
    store.reload();
    expect(store.lookup(live)).toBeUndefined();
    // At start, a missing file is no keys yet (the first `keys add` creates it), and the log says every request is refused until then.
    const said: string[] = [];
    const fresh = new KeyStore(KeysConfig.parse({ file: path.join(dir, 'none.yaml') }), (l) => said.push(l));
    fresh.load();
    expect(fresh.size).toBe(0);
    expect(said).toEqual([expect.stringMatching(/none\.yaml does not exist yet: no keys, every \/v1 request is refused 401 until it is written/)]);
  });

  test('a file replaced between the first read and the first poll is still picked up', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-store-'));
    const file = path.join(dir, 'keys.yaml');
    writeKeysFile(file, { keys: [fileKeys.keys[1]!] });
    const store = new KeyStore(KeysConfig.parse({ file, reload_interval_ms: 50 }));
    store.load();
    // Replaced before the watcher takes its baseline: what `keys add` right after start does.
    writeKeysFile(file, fileKeys);
    store.watch();
    try {
      for (let i = 0; i < 40 && !store.lookup(live); i++) await new Promise((r) => setTimeout(r, 25));
      expect(store.lookup(live)?.app).toBe('web');
    } finally {
      store.close();
    }
  });

  test('no file and no inline keys: not enabled', () => {
    expect(new KeyStore(KeysConfig.parse({})).enabled).toBe(false);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../gateway/config';

function configFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sg-config-')), name);
  writeFileSync(file, text);
  return file;
}

test('a timeout longer than node can wait is refused (it would fire after 1 ms)', () => {
  expect(() => loadConfig({ flags: { config: configFile('g.yaml', 'engine:\n  total_timeout_ms: 3000000000\n') }, env: {} })).toThrow(/engine\.total_timeout_ms: at most 2147483647 ms/);
  expect(() => loadConfig({ flags: { config: configFile('g.yaml', 'shutdown_grace_s: 3000000\n') }, env: {} })).toThrow(/shutdown_grace_s/);
  expect(loadConfig({ flags: { config: configFile('g.yaml', 'engine:\n  total_timeout_ms: 900000\n') }, env: {} }).engine.total_timeout_ms).toBe(900_000);
});

test('an empty HOST is unset; an empty host in the file is refused (node would listen on every interface)', () => {
  expect(loadConfig({ flags: {}, env: { HOST: '' } }).host).toBe('127.0.0.1');
  expect(() => loadConfig({ flags: { config: configFile('g.yaml', 'host: ""\n') }, env: {} })).toThrow(/host: an interface address/);
});

test("a config file's syntax error says where, never the text around it (it may hold secrets)", () => {
  const json = configFile('g.json', '{"engine": {"api_key": sk-live-SUPERSECRET123}}');
  expect(() => loadConfig({ flags: { config: json }, env: {} })).toThrow(/not valid JSON/);
  try {
    loadConfig({ flags: { config: json }, env: {} });
  } catch (err) {
    expect((err as Error).message).not.toContain('sk-live');
  }
  const yaml = configFile('g.yaml', 'engine:\n  api_key: "sk-live-SUPERSECRET123\n');
  try {
    loadConfig({ flags: { config: yaml }, env: {} });
    throw new Error('accepted');
  } catch (err) {
    expect((err as Error).message).toMatch(/not valid YAML: line \d+, column \d+/);
    expect((err as Error).message).not.toContain('sk-live');
  }
});

test('an unknown key names the one it likely misspells, at any depth', () => {
  const file = configFile('g.yaml', 'engin:\n  url: http://127.0.0.1:8000/v1\naudit:\n  fsnyc: always\n');
  expect(() => loadConfig({ flags: { config: file }, env: {} })).toThrow(/\(top level\): unknown key "engin"; did you mean `engine`\?/);
  expect(() => loadConfig({ flags: { config: file }, env: {} })).toThrow(/audit: unknown key "fsnyc"; did you mean `fsync`\?/);
  // Nothing close: no guess.
  expect(() => loadConfig({ flags: { config: configFile('g.yaml', 'zzzzzzzz: 1\n') }, env: {} })).toThrow(/unknown key "zzzzzzzz"$/m);
});

test('an audit file size over 256 MiB is refused (a restart and audit verify read a file as one string; past 512 MiB the gateway could not start)', () => {
  expect(() => loadConfig({ flags: { config: configFile('g.yaml', 'audit:\n  max_file_bytes: 1073741824\n') }, env: {} })).toThrow(/audit\.max_file_bytes/);
  expect(loadConfig({ flags: { config: configFile('g.yaml', 'audit:\n  max_file_bytes: 268435456\n') }, env: {} }).audit.max_file_bytes).toBe(268_435_456);
});

test('a JSON config saved with a byte-order mark, or named .JSON, is read as JSON (as the same file in YAML is)', () => {
  const settings = '{"port": 9123, "engine": {"url": "http://127.0.0.1:8000/v1"}}';
  expect(loadConfig({ flags: { config: configFile('g.json', `\uFEFF${settings}`) }, env: {} }).port).toBe(9123);
  expect(loadConfig({ flags: { config: configFile('G.JSON', settings) }, env: {} }).port).toBe(9123);
});

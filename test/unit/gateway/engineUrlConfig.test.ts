import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../gateway/config';

/** Engine URLs: each must end in /v1 (replicas too), and a refusal never prints the credentials a URL carries. */
function configFile(yaml: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sg-config-')), 'gateway.yaml');
  writeFileSync(file, yaml);
  return file;
}

test('a replica URL without /v1 is refused at start, like engine.url', () => {
  const config = configFile('engine:\n  upstreams:\n    - url: http://127.0.0.1:8001\n');
  expect(() => loadConfig({ flags: { config }, env: { ENGINE_URL: 'http://127.0.0.1:8000/v1' } })).toThrow(/engine\.upstreams\[0\]\.url: http:\/\/127\.0\.0\.1:8001\/ should be/);
  expect(loadConfig({ flags: { config: configFile('engine:\n  upstreams:\n    - url: http://127.0.0.1:8001/v1\n') }, env: { ENGINE_URL: 'http://127.0.0.1:8000/v1' } }).engine.upstreams).toHaveLength(1);
});

test('a refused URL is shown without its user, password or query', () => {
  let message = '';
  try {
    loadConfig({ flags: {}, env: { ENGINE_URL: 'https://svc:S3cretP4ss@engine.internal:8000/openai?api-key=sk-live-123' } });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    message = (err as Error).message;
  }
  expect(message).toMatch(/engine\.url: https:\/\/engine\.internal:8000\/openai should be/);
  expect(message).not.toMatch(/S3cretP4ss|sk-live-123|svc:/);
});

test('an engine URL that is not http(s) is refused at start, with what to write (a scheme-less host parses as a scheme)', () => {
  for (const url of ['vllm:8000/v1', 'localhost:8000/v1', 'htttp://vllm:8000/v1', 'ftp://127.0.0.1/v1']) {
    expect(() => loadConfig({ flags: {}, env: { ENGINE_URL: url } })).toThrow(/engine\.url: .*http:\/\/ or https:\/\//);
    const config = configFile(`engine:\n  upstreams:\n    - url: ${url}\n`);
    expect(() => loadConfig({ flags: { config }, env: { ENGINE_URL: 'http://127.0.0.1:8000/v1' } })).toThrow(/engine\.upstreams\.0\.url: .*http:\/\/ or https:\/\//);
  }
  expect(loadConfig({ flags: {}, env: { ENGINE_URL: 'HTTPS://engine.internal/v1' } }).engine.url).toBe('HTTPS://engine.internal/v1');
});

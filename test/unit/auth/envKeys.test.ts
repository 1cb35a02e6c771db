import { hashApiKey } from '../../../gateway/access/auth/apiKey';
import { parseEnvKeys } from '../../../gateway/access/auth/envKeys';
import { loadConfig } from '../../../gateway/config';

describe('SAFETY_API_KEYS', () => {
  const keyA = 'sk-sg-0123456789abcdefghij';
  test('app=key pairs become app + hash; the clear key is not kept', () => {
    const keys = parseEnvKeys(` web=${keyA} , batch=${hashApiKey('another-long-secret-key')}`);
    expect(keys).toEqual([
      { app: 'web', hash: hashApiKey(keyA) },
      { app: 'batch', hash: hashApiKey('another-long-secret-key') },
    ]);
    expect(JSON.stringify(keys)).not.toContain(keyA);
  });

  test('malformed entries are refused without echoing the key', () => {
    expect(() => parseEnvKeys('justakey')).toThrow(/entry 1 is not app=key/);
    try {
      parseEnvKeys('web=short-secret');
      throw new Error('accepted');
    } catch (err) {
      expect((err as Error).message).toMatch(/too short/);
      expect((err as Error).message).not.toContain('short-secret');
    }
  });

  test('loadConfig hashes them into keys.inline and REDIS_URL selects the Redis store', () => {
    const config = loadConfig({ flags: {}, env: { SAFETY_API_KEYS: `web=${keyA}`, SAFETY_KEYS_FILE: '/tmp/k.yaml', REDIS_URL: 'redis://127.0.0.1:6390' } });
    expect(config.keys.inline).toEqual([{ app: 'web', hash: hashApiKey(keyA) }]);
    expect(config.keys.file).toBe('/tmp/k.yaml');
    expect(config.rate_limits).toMatchObject({ store: 'redis', redis_url: 'redis://127.0.0.1:6390' });
    expect(JSON.stringify(config)).not.toContain(keyA);
  });

  test('a REDIS_URL without its scheme is refused at start, saying what a Redis URL looks like', () => {
    expect(() => loadConfig({ flags: {}, env: { REDIS_URL: 'localhost:6379' } })).toThrow(/a Redis URL: redis:\/\/host:6379/);
  });
});

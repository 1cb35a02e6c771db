import { redactRedisUrl } from '../../../gateway/access/rateLimit/redisClient';

test('a Redis URL in logs shows host, port and database only, never credentials', () => {
  expect(redactRedisUrl('redis://user:secret@redis.internal:6380/2')).toBe('redis://redis.internal:6380/2');
  expect(redactRedisUrl('rediss://:pw@redis:6379')).toBe('rediss://redis:6379');
  // An unencoded `/` in the password: the URL parser reads the secret as a path.
  const shown = redactRedisUrl('redis://default:/Xk9+abcSECRET@127.0.0.1:9');
  expect(shown).not.toContain('SECRET');
  expect(shown).toBe('redis://127.0.0.1:9');
  // A password starting with digits parsed as a port.
  expect(redactRedisUrl('redis://default:4711/kX9+secret@redis:6379/0')).toBe('redis://redis:6379/0');
  expect(redactRedisUrl('not a url')).toBe('(unparseable Redis URL)');
});

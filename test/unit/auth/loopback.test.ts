import { isLoopbackHost, openAccessProblem } from '../../../gateway/access/auth/loopback';

describe('loopback-only open access', () => {
  test.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  test.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'gateway.internal', '::ffff:10.0.0.1'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
  test('without keys a reachable host is refused with a message that says how to fix it', () => {
    expect(openAccessProblem('0.0.0.0', false)).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys.*keys add.*127\.0\.0\.1/s);
    expect(openAccessProblem('0.0.0.0', true)).toBeUndefined();
    expect(openAccessProblem('127.0.0.1', false)).toBeUndefined();
  });
});

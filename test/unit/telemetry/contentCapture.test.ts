import { captureContent, captureText, contentSalt, digest, HASH_PREFIX } from '../../../gateway/telemetry/contentCapture';

describe('content capture', () => {
  const texts = { input: ['hello jane@example.com'], output: ['the answer'] };

  test('none (the default): a salted hash per text, never the text', () => {
    const captured = captureContent(texts, undefined, 'salt-1');
    expect(captured.capture).toBe('none');
    expect(captured.input[0]).toMatch(new RegExp(`^${HASH_PREFIX}[0-9a-f]{64}$`));
    expect(JSON.stringify(captured)).not.toContain('hello');
    expect(JSON.stringify(captured)).not.toContain('answer');
  });

  test('equal texts hash equal under one salt and differently under another', () => {
    expect(digest('x', 'a')).toBe(digest('x', 'a'));
    expect(digest('x', 'a')).not.toBe(digest('x', 'b'));
    expect(digest('x', 'a')).not.toBe(digest('y', 'a'));
  });

  test('redacted masks, full keeps', () => {
    expect(captureContent(texts, 'redacted', 's').input).toEqual(['hello [EMAIL]']);
    expect(captureContent(texts, 'full', 's')).toEqual({ capture: 'full', ...texts });
    expect(captureText('x', 'none', 's')).toBe(digest('x', 's'));
  });

  test('an unknown mode counts as none', () => {
    expect(captureContent(texts, 'everything' as never, 's').capture).toBe('none');
  });

  test('the salt comes from SAFETY_CONTENT_SALT, else is random per call', () => {
    expect(contentSalt({ SAFETY_CONTENT_SALT: 'shared' })).toEqual({ salt: 'shared', configured: true });
    const a = contentSalt({});
    expect(a.configured).toBe(false);
    expect(a.salt).not.toBe(contentSalt({}).salt);
  });
});

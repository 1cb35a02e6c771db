import { luhn, redact } from '../../../gateway/telemetry/redact';

describe('redact (content capture "redacted")', () => {
  test.each([
    ['mail me at jane.doe+work@example.co.uk please', 'mail me at [EMAIL] please'],
    ['call +1 415 555 0132 or (415) 555-0199', 'call [PHONE] or [PHONE]'],
    ['card 4111 1111 1111 1111 exp 12/29', 'card [CARD] exp 12/29'],
    ['card 4111-1111-1111-1111', 'card [CARD]'],
    ['ssn 123-45-6789', 'ssn [SSN]'],
    ['key sk-proj-abcdefghijklmnopqrstuvwxyz123456', 'key [KEY]'],
    ['aws AKIAIOSFODNN7EXAMPLE here', 'aws [KEY] here'],
    ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'token [KEY]'],
    ['Authorization: Bearer abc.def-123456789xyz', 'Authorization: Bearer [KEY]'],
    ['api_key=s3cr3tvalue123 and password: hunter22', 'api_key=[KEY] and password: [KEY]'],
    // Prefixed names, as environment variables spell them; GitLab tokens.
    ['DB_PASSWORD=hunter2hunter2 AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCY', 'DB_PASSWORD=[KEY] AWS_SECRET_ACCESS_KEY=[KEY]'],
    ['GITLAB_TOKEN: glpat-abcdefghijklmnopqrstuv', 'GITLAB_TOKEN: [KEY]'],
    ['deploy with glpat-abcdefghijklmnopqrstuv', 'deploy with [KEY]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.abcdefghijk', 'jwt [KEY]'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  test('leaves ordinary numbers, dates and prose alone', () => {
    const text = 'In 2024-01-15 we sold 1234567 units at 19.99 each; order 4111111111111112 shipped.';
    expect(redact(text)).toBe(text);
  });

  test('masks a private key block whole', () => {
    expect(redact('-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----')).toBe('[KEY]');
  });

  test('masks what the linear-time patterns must still find: flags, values aligned far from their name, encrypted keys, long local parts', () => {
    expect(redact(`DB_PASSWORD${' '.repeat(20)}= hunter2hunter2`)).toBe(`DB_PASSWORD${' '.repeat(20)}= [KEY]`);
    expect(redact(`password:\n${' '.repeat(18)}hunter22hunter`)).toBe(`password:\n${' '.repeat(18)}[KEY]`);
    expect(redact(`write to ${'x'.repeat(70)}@example.com now`)).toBe('write to [EMAIL] now');
    expect(redact('run --api-key=abcdef123456 now')).toBe('run --api-key=[KEY] now');
    expect(redact('password:\n  hunter22hunter')).toBe('password:\n  [KEY]');
    expect(redact('-----BEGIN ENCRYPTED PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,AB12\n\nMIIE+/=\n-----END ENCRYPTED PRIVATE KEY-----')).toBe('[KEY]');
    expect(redact('mail jane.doe+tag@mail.example.co.uk today')).toBe('mail [EMAIL] today');
    expect(redact('call +1 (555) 123-4567 or 555.123.4567')).toBe('call [PHONE] or [PHONE]');
  });

  // A hang guard, not a speed claim: each of these took 20-40 s (quadratic backtracking on the
  // event loop, every request stalled meanwhile); linear patterns take well under a second.
  test.each([
    ['dotted words (e-mail local part)', 'a.'.repeat(60_000)],
    ['key names followed by long runs of spaces', 'token     '.repeat(12_000)],
    ['zero-width spaces between letters', 'a\u200B'.repeat(60_000)],
    ['hyphenated words (key names)', 'a-'.repeat(60_000)],
    ['hyphenated digits', '1-'.repeat(60_000)],
    ['token-looking runs', 'eyJ-'.repeat(30_000)],
    ['a long run of digits (phone numbers)', '1'.repeat(120_000)],
    ['key headers without an end', '-----BEGIN PRIVATE KEY-----'.repeat(4_000)],
  ])('redacts 120 KB of %s without backtracking for seconds', (_name, text) => {
    const started = performance.now();
    redact(text);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test('luhn accepts real card numbers only', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(luhn('5500005555555559')).toBe(true);
    expect(luhn('4111111111111112')).toBe(false);
    expect(luhn('123')).toBe(false);
  });
});

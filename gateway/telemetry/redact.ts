/**
 * Content capture `redacted`: the text stays readable for a reviewer, with the things that must
 * never sit in a log masked. Pure and order-sensitive: the most specific patterns run first so a
 * key that contains digits is masked as a key, not as a phone number.
 */
interface Rule {
  label: string;
  pattern: RegExp;
  /** Extra check on a match (Luhn for cards, digit counts for phones); default: always mask. */
  accept?: (match: string) => boolean;
  /** Replacement for a match; default `[LABEL]`. */
  replace?: (match: string, ...groups: string[]) => string;
}

const RULES: Rule[] = [
  // Every pattern runs in time linear in the text (redact runs on the event loop, on any client's
  // text): no unbounded run a match can start inside of and fail at the end of. A key's body stops
  // at the next `-----`; a token starts where its run of base64url characters starts.
  { label: 'KEY', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:(?!-----)[\s\S])*-----END [A-Z ]*PRIVATE KEY-----/g },
  { label: 'KEY', pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g },
  // Provider key formats: OpenAI / Anthropic style, AWS, GitHub, Slack, GitLab, Google.
  { label: 'KEY', pattern: /\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}/g },
  { label: 'KEY', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { label: 'KEY', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g },
  { label: 'KEY', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g },
  { label: 'KEY', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/g },
  { label: 'KEY', pattern: /\bAIza[0-9A-Za-z_-]{35}/g },
  { label: 'KEY', pattern: /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{12,}/gi, replace: (_m, scheme: string) => `${scheme} [KEY]` },
  // `api_key = ...`, `password: ...`: keep the name (it says what was there), mask the value.
  {
    label: 'KEY',
    // Prefixed names too (DB_PASSWORD, AWS_SECRET_ACCESS_KEY, GITLAB_TOKEN): `\b` fails after `_`.
    // At most eight prefix words of at most 40 characters: bounded work wherever a match is tried
    // (the whitespace around `:`/`=` follows a key name, so each run of it is read once or twice).
    pattern: /(?<![A-Za-z0-9])((?:[A-Za-z0-9]{1,40}[_-]){0,8}(?:api[_-]?key|access[_-]?key|secret(?:[_-]?access)?(?:[_-]?key)?|token|passw(?:or)?d)["']?\s*[:=]\s*)["']?[^\s"',;]{6,}["']?/gi,
    replace: (_m, name: string) => `${name}[KEY]`,
  },
  // The local part from where its run of characters starts (tried inside a run, each try scanned
  // to its end); labels of at most 63 characters (RFC 1035).
  { label: 'EMAIL', pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g },
  { label: 'CARD', pattern: /\b\d(?:[ -]?\d){12,18}\b/g, accept: (m) => luhn(m.replace(/\D/g, '')) },
  { label: 'SSN', pattern: /\b\d{3}-\d{2}-\d{4}\b/g },
  {
    label: 'PHONE',
    // Not from inside a run of digits: tried at every digit of a long one, each try split the run every way.
    pattern: /(?<![\d+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,5}){1,4}\b/g,
    // Ten digits or more, or an international prefix: plain numbers, years and dates stay.
    accept: (m) => {
      const digits = m.replace(/\D/g, '').length;
      return digits <= 15 && (digits >= 10 || (m.trimStart().startsWith('+') && digits >= 8));
    },
  },
];

export function redact(text: string): string {
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
      if (rule.accept && !rule.accept(match)) return match;
      const groups = rest.filter((g): g is string => typeof g === 'string');
      return rule.replace ? rule.replace(match, ...groups) : `[${rule.label}]`;
    });
  }
  return out;
}

/** The Luhn checksum every payment card number satisfies (keeps order numbers and the like readable). */
export function luhn(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

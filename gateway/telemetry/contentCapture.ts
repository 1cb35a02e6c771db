import { createHmac, randomBytes } from 'node:crypto';
import { redact } from './redact';

/**
 * What of the prompt and answer texts may leave the request path (audit log, log records), as the
 * policy's `telemetry.content_capture` says:
 * - `none` (default): a salted hash of each text. Equal texts give equal hashes under one salt, so a
 *   reviewer holding the salt can check whether a given text was sent, and nobody without it can.
 * - `redacted`: the text with emails, phone numbers, card numbers and keys masked.
 * - `full`: the text as is.
 */
export type ContentCapture = 'none' | 'redacted' | 'full';

export interface CapturedContent {
  capture: ContentCapture;
  input: string[];
  output: string[];
}

export const HASH_PREFIX = 'hmac-sha256:';

export function digest(text: string, salt: string): string {
  return HASH_PREFIX + createHmac('sha256', salt).update(text, 'utf8').digest('hex');
}

export function captureText(text: string, capture: ContentCapture, salt: string): string {
  switch (capture) {
    case 'full':
      return text;
    case 'redacted':
      return redact(text);
    default:
      return digest(text, salt);
  }
}

/** Pure: a request's texts as the capture mode allows them out. An unknown mode counts as `none`. */
export function captureContent(content: { input: string[]; output: string[] } | undefined, capture: ContentCapture | undefined, salt: string): CapturedContent {
  const mode: ContentCapture = capture === 'full' || capture === 'redacted' ? capture : 'none';
  return {
    capture: mode,
    input: (content?.input ?? []).map((t) => captureText(t, mode, salt)),
    output: (content?.output ?? []).map((t) => captureText(t, mode, salt)),
  };
}

/**
 * The salt for `none`: SAFETY_CONTENT_SALT when set (from a secret store: reviewers need it to
 * match a text), else random per process: hashes then compare only within one process's records,
 * which is still enough to spot repeats and gives nothing to a dictionary attack.
 */
export function contentSalt(env: NodeJS.ProcessEnv = process.env): { salt: string; configured: boolean } {
  const configured = env.SAFETY_CONTENT_SALT;
  if (configured && configured.length > 0) return { salt: configured, configured: true };
  return { salt: randomBytes(32).toString('hex'), configured: false };
}

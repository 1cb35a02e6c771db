import type { Response } from 'express';
import type { KeyLimits } from '../rateLimit/keyLimits';

/** A token reservation awaiting settlement from the engine's usage. */
export interface TokenHold {
  reserved: number;
  promptTokens: number;
  limit: number;
  takenAt: number;
  resetMs: number;
  settled: boolean;
}

/** Who is calling and under which limits; set by auth, read by the rate limiters (res.locals.access). */
export interface AccessContext {
  /** Rate-limit identity: `key:<id>` with keys, `ip:<client address>` without. */
  subject: string;
  limits: KeyLimits;
  tokens?: TokenHold;
}

export function setAccess(res: Response, access: AccessContext): void {
  res.locals.access = access;
}

export function accessOf(res: Response): AccessContext | undefined {
  return res.locals.access as AccessContext | undefined;
}

/** The API key id of the caller, when a key authenticated it (`key:<id>` subjects). */
export function keyIdOf(res: Response): string | undefined {
  const subject = accessOf(res)?.subject;
  return subject?.startsWith('key:') ? subject.slice(4) : undefined;
}

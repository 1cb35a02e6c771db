/**
 * How much decoding one text may cause, so that a 1 MB base64 blob, or thousands of small
 * payloads, or payloads nested in payloads, cannot multiply the scanning work. Shared by a text
 * and everything decoded from it. What does not fit is not decoded, and the text gets the
 * finding `decode_budget_exceeded`, so a policy can refuse what could not be checked.
 */

export const DECODE_LIMITS = {
  /** Characters of decoded text (payloads and ROT13 clauses, nested ones included) per text. */
  maxChars: 256 * 1024,
  /** Decoded payloads per text. */
  maxPayloads: 32,
  /** Levels of decoding: a payload inside a payload is decoded, one inside that is not. */
  maxDepth: 2,
} as const;

export class DecodeBudget {
  charsLeft: number;
  payloadsLeft: number;
  /** Set when something was left undecoded or cut for lack of budget. */
  exceeded = false;

  constructor(maxChars: number = DECODE_LIMITS.maxChars, maxPayloads: number = DECODE_LIMITS.maxPayloads) {
    this.charsLeft = maxChars;
    this.payloadsLeft = maxPayloads;
  }

  /** Whether another payload may be decoded; marks the budget exceeded when not. */
  canDecode(): boolean {
    if (this.payloadsLeft > 0 && this.charsLeft > 0) return true;
    this.exceeded = true;
    return false;
  }

  /** Records one decoded payload of `chars` characters. */
  spend(chars: number): void {
    this.payloadsLeft--;
    this.charsLeft = Math.max(0, this.charsLeft - chars);
  }
}

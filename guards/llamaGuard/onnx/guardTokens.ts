/**
 * The token ids the Llama Guard scoring recipe depends on, resolved from the model's own
 * tokenizer at load time (never hard-coded: another export or a test fixture has other ids).
 */

/** The two tokenizer operations needed, so resolution is testable with any tokenizer. */
export interface TokenLookup {
  /** Ids of `text` without any special tokens added. */
  encode(text: string): number[];
  tokenToId(token: string): number | undefined;
}

export interface GuardTokenIds {
  /** `\n\n`: the template's first generated token, forced before reading the decision. */
  newlines: number;
  safe: number;
  unsafe: number;
  /** Generation stops at any of these (eos ids from the configs, plus `<|eot_id|>`). */
  stopIds: number[];
}

function single(tok: TokenLookup, text: string): number {
  const ids = tok.encode(text);
  if (ids.length !== 1) {
    throw new Error(
      `The tokenizer encodes ${JSON.stringify(text)} as ${ids.length} tokens (${ids.join(', ')}); Llama Guard scoring needs ` +
        'it to be one token. This tokenizer.json does not belong to a Llama Guard 3 model.',
    );
  }
  return ids[0]!;
}

/** @param stopOverride replaces the derived stop ids (an empty list means: stop only at the token limit). */
export function resolveGuardTokens(tok: TokenLookup, configEos: readonly number[], stopOverride?: readonly number[]): GuardTokenIds {
  const newlines = single(tok, '\n\n');
  const safe = single(tok, 'safe');
  const unsafe = single(tok, 'unsafe');
  let stopIds: number[];
  if (stopOverride) {
    stopIds = [...stopOverride];
  } else {
    const eot = tok.tokenToId('<|eot_id|>');
    stopIds = [...new Set([...configEos, ...(eot === undefined ? [] : [eot])])];
    if (stopIds.length === 0) {
      throw new Error('No stop token: config.json / generation_config.json have no eos_token_id and the tokenizer has no <|eot_id|>.');
    }
  }
  return { newlines, safe, unsafe, stopIds };
}

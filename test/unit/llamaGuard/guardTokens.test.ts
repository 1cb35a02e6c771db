import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { resolveGuardTokens, type TokenLookup } from '../../../guards/llamaGuard/onnx/guardTokens';

const FIXTURE = path.join(__dirname, '../../fixtures/models/llama-guard-tiny');

function fixtureLookup(): TokenLookup {
  const json: unknown = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'tokenizer.json'), 'utf8'));
  const config: unknown = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'tokenizer_config.json'), 'utf8'));
  const tok = new Tokenizer(json as object, config as object);
  return { encode: (t) => tok.encode(t, { add_special_tokens: false }).ids, tokenToId: (t) => tok.token_to_id(t) };
}

describe('resolveGuardTokens', () => {
  it("resolves \\n\\n, safe, unsafe and the stop ids from the fixture's tokenizer", () => {
    const lookup = fixtureLookup();
    const ids = resolveGuardTokens(lookup, [497, 504, 505]);
    const vocab = (JSON.parse(fs.readFileSync(path.join(FIXTURE, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    expect(ids).toEqual({ newlines: vocab['ĊĊ'], safe: vocab.safe, unsafe: vocab.unsafe, stopIds: [497, 504, 505] });
  });

  it('adds <|eot_id|> to the config eos ids, and an override replaces them', () => {
    const lookup = fixtureLookup();
    expect(resolveGuardTokens(lookup, [497]).stopIds).toEqual([497, 505]);
    expect(resolveGuardTokens(lookup, [497], [42]).stopIds).toEqual([42]);
  });

  it('refuses a tokenizer where a scoring word is not one token', () => {
    const split: TokenLookup = { encode: (t) => (t === 'unsafe' ? [1, 2] : [3]), tokenToId: () => 9 };
    expect(() => resolveGuardTokens(split, [0])).toThrow(/"unsafe" as 2 tokens/);
    const noStop: TokenLookup = { encode: () => [3], tokenToId: () => undefined };
    expect(() => resolveGuardTokens(noStop, [])).toThrow(/No stop token/);
  });
});

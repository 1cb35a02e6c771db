import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveSegmentFrame, specialTokenContents } from '../../../guards/tokenizer/specialTokens';
import { encodeLongText, removeTokenSplittingSpaces } from '../../../guards/tokenizer/longText';
import { neutralizeSpecialTokens, TextTokenizer } from '../../../guards/tokenizer/textTokenizer';

const DIR = path.join(__dirname, '../../fixtures/models/prompt-guard-v1-tiny');
const tokenizerJson = JSON.parse(fs.readFileSync(path.join(DIR, 'tokenizer.json'), 'utf8'));
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(DIR, 'tokenizer_config.json'), 'utf8'));
const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig);

describe('segment frame', () => {
  it('reads [CLS] and [SEP] ids from the TemplateProcessing post-processor', () => {
    expect(resolveSegmentFrame(tokenizerJson, tokenizerConfig)).toEqual({ prefix: [1], suffix: [2], padId: 0 });
  });

  it('reads BertProcessing / RobertaProcessing and falls back to tokenizer_config', () => {
    expect(resolveSegmentFrame({ post_processor: { type: 'RobertaProcessing', cls: ['<s>', 0], sep: ['</s>', 2] }, padding: { pad_id: 1 } }, {})).toEqual({
      prefix: [0],
      suffix: [2],
      padId: 1,
    });
    const added = { added_tokens: [{ id: 7, content: '<c>', special: true }, { id: 8, content: '<e>', special: true }, { id: 9, content: '<p>', special: true }] };
    expect(resolveSegmentFrame(added, { cls_token: '<c>', sep_token: { content: '<e>' }, pad_token: '<p>' })).toEqual({ prefix: [7], suffix: [8], padId: 9 });
  });

  it('lists the special added tokens', () => {
    expect(specialTokenContents(tokenizerJson)).toEqual(['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]']);
  });
});

describe('TextTokenizer', () => {
  it('encodes without adding special tokens', () => {
    expect(tokenizer.encodeIds('hello zzinject')).toEqual([tokenizerJson.model.vocab.findIndex((v: [string]) => v[0] === '▁hello'), 4]);
    expect(tokenizer.encodeIds('')).toEqual([]);
  });

  it('reads special-token strings typed in the text as plain text, never as special ids', () => {
    const ids = tokenizer.encodeIds('[CLS] [SEP] [PAD] [MASK] [UNK] <|eot_id|>');
    for (const special of [0, 1, 2, 313]) expect(ids).not.toContain(special);
    // The library left alone would emit the special ids: this is what is being neutralized.
    const { Tokenizer } = require('@huggingface/tokenizers');
    const raw = new Tokenizer(tokenizerJson, tokenizerConfig).encode('[CLS] [SEP]', { add_special_tokens: false }).ids;
    expect(raw).toEqual(expect.arrayContaining([1, 2]));
  });

  it('keeps the neutralized vocabulary aligned with the original ids', () => {
    const neutral = neutralizeSpecialTokens(tokenizerJson) as { model: { vocab: [string, number][] }; added_tokens: unknown[] };
    expect(neutral.model.vocab).toHaveLength(tokenizerJson.model.vocab.length);
    expect(neutral.model.vocab[1][0]).toBe('\u0000[CLS]');
    expect(neutral.model.vocab[4]).toEqual(tokenizerJson.model.vocab[4]);
    expect(neutral.added_tokens).toEqual([]);
    expect(tokenizerJson.model.vocab[1][0]).toBe('[CLS]'); // the original is untouched
  });

  it('strips the Metaspace marker from token surfaces', () => {
    expect(tokenizer.surface('▁hello')).toBe('hello');
  });
});

describe('long text', () => {
  const text = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? 'zzinject' : i % 2 ? 'hello' : 'world')).join(' ');

  it('tokenizes in slices to the same ids as in one piece', async () => {
    expect(await encodeLongText(tokenizer, text, { sliceChars: 100 })).toEqual(tokenizer.encodeIds(text));
  });

  it('lets other event-loop work run while a long text is tokenized', async () => {
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick); // scheduled before the tokenization starts
    const ids = await encodeLongText(tokenizer, text, { sliceChars: 256 });
    running = false;
    expect(ids).toHaveLength(3000); // one token per word
    // One turn per slice boundary: the callback above ran again and again during the work.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(text.length / 256) - 1);
  });

  it('does not yield at all for a short text', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    await encodeLongText(tokenizer, 'hello world');
    expect(ran).toBe(false);
  });

  it('stops between slices when the check is abandoned', async () => {
    const controller = new AbortController();
    const work = encodeLongText(tokenizer, text, { sliceChars: 64, signal: controller.signal });
    controller.abort(new Error('gone'));
    await expect(work).rejects.toThrow('gone');
  });

  it('undoes the whitespace attack with the real tokenizer, also across slices', async () => {
    const spaced = 'please z z j a i l b r e a k now';
    expect(await removeTokenSplittingSpaces(tokenizer, spaced)).toBe('please zzjailbreak now');
    const long = Array(400).fill(spaced).join(' ');
    const out = await removeTokenSplittingSpaces(tokenizer, long, { sliceChars: 128 });
    expect(out.match(/zzjailbreak/g)).toHaveLength(400);
    expect(await removeTokenSplittingSpaces(tokenizer, 'nospaces')).toBe('nospaces');
  });
});

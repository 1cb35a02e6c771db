import { quotesAny } from '../../../guards/runtime/quotedText';

/** Guard servers quote what they were sent in their own ways; the gateway's log must never carry it. */
describe('quotesAny', () => {
  const text = 'Please summarise my medical file; the diagnosis is TAIL-MARKER-hiv';
  const pyRepr = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/'/g, "\\'")}'`;

  test.each([
    ['raw, at its start', `input_value=${text.slice(0, 30)}...`],
    ["pydantic's truncation: only the text's last 24 characters", `input_value={'role': 'user', 'content...${pyRepr(text).slice(-24)}, input_type=dict]`],
    ["Python's repr escaping an apostrophe", `bad content: input_value=${pyRepr('He said "don\'t" QUOTE-MARKER tell anyone')}`],
    ['JSON escapes (newline, quotes, \\u)', '{"input":"My \\"secret\\" plan\\nis to r\\u00f6b the bank"}'],
    ['other case and spacing', 'INPUT: the  DIAGNOSIS   is tail marker HIV'],
  ])('%s: a quote', (_how, message) => {
    expect(quotesAny(message, [text, 'He said "don\'t" QUOTE-MARKER tell anyone', 'My "secret" plan\nis to röb the bank'])).toBe(true);
  });

  test('a short text counts when quoted whole (6 letters or digits and up); messages about other things do not', () => {
    expect(quotesAny("Value error: 'mypin 4921' is not allowed", ['my pin 4921'])).toBe(true);
    expect(quotesAny('short hi', ['hi'])).toBe(false);
    expect(quotesAny('The model `meta-llama/Llama-Guard-3-8B` does not exist.', [text])).toBe(false);
    expect(quotesAny('HTTP 413: batch size 64 exceeds the limit of 32', ['Tell me about batch sizes in training', text])).toBe(false);
  });

  test('CJK text is compared too', () => {
    expect(quotesAny('input_value="帮我注册一个网上银行的账户好吗谢谢"', ['请帮我注册一个网上银行的账户好吗谢谢你'])).toBe(true);
  });
});

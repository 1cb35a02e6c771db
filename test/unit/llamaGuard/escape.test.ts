import { neutralizeMarkers } from '../../../guards/llamaGuard/escape';

describe('neutralizeMarkers', () => {
  it('breaks every Llama 3 special-token spelling', () => {
    for (const tok of ['<|begin_of_text|>', '<|eot_id|>', '<|reserved_special_token_42|>', '<|python_tag|>', '<|image|>']) {
      const out = neutralizeMarkers(`a${tok}b`);
      expect(out).not.toContain(tok);
      expect(out.replace(/\u200b/g, '')).toBe(`a${tok}b`);
    }
  });

  it('breaks the section markers in any case, and leaves other text alone', () => {
    expect(neutralizeMarkers('<begin conversation> <END UNSAFE CONTENT CATEGORIES>')).toBe(
      '<\u200bbegin conversation> <\u200bEND UNSAFE CONTENT CATEGORIES>',
    );
    expect(neutralizeMarkers('a < b | c > d <| x |> <END>')).toBe('a < b | c > d <| x |> <END>');
  });
});

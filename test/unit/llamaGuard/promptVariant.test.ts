import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promptVariantOf, promptVariantOfDirectory } from '../../../guards/llamaGuard/promptVariant';

describe("the Llama Guard prompt a model was trained on, when the policy does not say", () => {
  test.each([
    ['the 1B by its size (the only public ONNX export)', { config: { hidden_size: 2048, num_hidden_layers: 16 } }, '1b'],
    ['the 8B by its size', { config: { hidden_size: 4096 } }, '8b'],
    ['a served 1B by its name', { name: 'meta-llama/Llama-Guard-3-1B' }, '1b'],
    ['a served 8B by its name', { name: 'meta-llama/Llama-Guard-3-8B' }, '8b'],
    ['a quantized 1B name', { name: 'llama-guard3:1b-q8_0' }, '1b'],
    ['not fooled by 11b or 3.1b', { name: 'Llama-Guard-3-11B-Vision' }, '8b'],
    ['anything else', { config: { hidden_size: 64 }, name: 'tiny' }, '8b'],
  ])('%s', (_name, model, expected) => {
    expect(promptVariantOf(model)).toBe(expected);
  });

  test("a directory's config.json decides; an unreadable one leaves the name", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-lg-'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ hidden_size: 2048 }));
    expect(promptVariantOfDirectory(dir)).toBe('1b');
    expect(promptVariantOfDirectory(path.join(tmpdir(), 'no-such-Llama-Guard-3-1B'))).toBe('1b');
    expect(promptVariantOfDirectory(path.join(tmpdir(), 'no-such-model'))).toBe('8b');
  });
});

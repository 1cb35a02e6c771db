import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promptVariantOf, promptVariantOfDirectory } from '../../../policies/llamaGuardVariant';
import { loadPolicyFile } from '../../../policies/loader';

describe("the Llama Guard prompt a model was trained on, when the policy does not say", () => {
  test.each([
    ['the 1B by its size (the only public ONNX export)', { config: { hidden_size: 2048, num_hidden_layers: 16 } }, '1b'],
    ['the 8B by its size', { config: { hidden_size: 4096 } }, '8b'],
    ['a served 1B by its name', { name: 'meta-llama/Llama-Guard-3-1B' }, '1b'],
    ['a served 8B by its name', { name: 'meta-llama/Llama-Guard-3-8B' }, '8b'],
    ['a quantized 1B name', { name: 'llama-guard3:1b-q8_0' }, '1b'],
    ['a 1B name with an underscore after it', { name: 'Llama-Guard-3-1B_int4' }, '1b'],
    ['the 11B-Vision model, which takes the 1B prompt', { name: 'meta-llama/Llama-Guard-3-11B-Vision' }, '1b'],
    ['not fooled by 3.1b or 21b', { name: 'llama-3.1b-guard-21b' }, '8b'],
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

describe('a policy loads with its Llama Guard prompt decided, so checks see what the guard will list', () => {
  const policyWith = (model: string, extra: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-lgp-'));
    const file = path.join(dir, 'p.yaml');
    writeFileSync(file, `id: p\nguards:\n  lg:\n    type: llama_guard\n    backend: onnx\n    model: ${model}\ninput:\n  - id: r\n    guard: lg\n    threshold: 0.5\n${extra}`);
    return file;
  };

  test('a 1B model (config.json) gets the 1b prompt, and a rule naming S14 is refused as policy check would', () => {
    const model = mkdtempSync(path.join(tmpdir(), 'sg-lg1b-'));
    writeFileSync(path.join(model, 'config.json'), JSON.stringify({ hidden_size: 2048 }));
    expect(loadPolicyFile(policyWith(model, '')).policy.guards.lg).toMatchObject({ prompt_variant: '1b' });
    expect(() => loadPolicyFile(policyWith(model, '    categories: { S14: allow }\n'))).toThrow(/S14/);
  });

  test('a prompt the policy names is kept', () => {
    const model = mkdtempSync(path.join(tmpdir(), 'sg-lg1b-'));
    writeFileSync(path.join(model, 'config.json'), JSON.stringify({ hidden_size: 2048 }));
    const file = policyWith(model, '');
    writeFileSync(file, readFileSync(file, 'utf8').replace('backend: onnx', 'backend: onnx\n    prompt_variant: 8b'));
    expect(loadPolicyFile(file).policy.guards.lg).toMatchObject({ prompt_variant: '8b' });
  });
});

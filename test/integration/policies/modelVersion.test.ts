import { cpSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolicyHolder } from '../../../gateway/pipeline/runtime/policyRuntime';
import { loadPolicyFile } from '../../../policies/loader';

/**
 * A policy's version names what it enforces: the same rules on a model replaced on disk are a new
 * version (audit records and the verdict cache tell them apart) and a new guard on reload, while
 * the same model files at another path are the same version.
 */
const FIXTURE_MODEL = path.join(__dirname, '../../fixtures/models/prompt-guard-v1-tiny');
const policy = (model: string, threshold = 0.9) => `id: pinned
guards:
  prompt_guard:
    type: prompt_guard
    model: ${model}
input:
  - id: jailbreak
    guard: prompt_guard
    threshold: ${threshold}
`;

describe('policy version and local model files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sg-model-version-'));
    for (const name of ['a', 'b']) cpSync(FIXTURE_MODEL, path.join(dir, name), { recursive: true, preserveTimestamps: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const versionOf = (model: string) => {
    const file = path.join(dir, `policy-${model}.yaml`);
    writeFileSync(file, policy(`./${model}`));
    return loadPolicyFile(file).version;
  };

  test('the same files at another path: the same version; a model file replaced: a new one', () => {
    expect(versionOf('a')).toBe(versionOf('b'));
    const before = versionOf('a');
    const config = path.join(dir, 'a', 'config.json');
    writeFileSync(config, `${JSON.stringify({ ...require(config), note: 'recalibrated' })}\n`);
    utimesSync(config, new Date(), new Date(Date.now() + 5000));
    expect(versionOf('a')).not.toBe(before);
  });

  test("a remote Prompt Guard's tokenizer folder counts by its files too: at another path the same version, replaced a new one", () => {
    const remoteVersionOf = (tokenizer: string) => {
      const file = path.join(dir, `remote-${tokenizer}.yaml`);
      writeFileSync(file, `id: remote\nguards:\n  prompt_guard:\n    type: prompt_guard\n    backend: tei\n    model: meta-llama/Prompt-Guard-86M\n    url: http://tei:80\n    tokenizer: ./${tokenizer}\ninput:\n  - id: jailbreak\n    guard: prompt_guard\n    threshold: 0.9\n`);
      return loadPolicyFile(file).version;
    };
    expect(remoteVersionOf('a')).toBe(remoteVersionOf('b'));
    const before = remoteVersionOf('a');
    const tokenizer = path.join(dir, 'a', 'tokenizer.json');
    utimesSync(tokenizer, new Date(), new Date(Date.now() + 5000));
    expect(remoteVersionOf('a')).not.toBe(before);
  });

  test('a reload after the model was replaced builds a new guard instead of reusing the old session', async () => {
    const file = path.join(dir, 'policy.yaml');
    writeFileSync(file, policy('./a'));
    const holder = new PolicyHolder({ threads: 1 });
    try {
      await holder.loadFile(file);
      const first = holder.current();
      const onnx = path.join(dir, 'a', 'model.onnx');
      utimesSync(onnx, new Date(), new Date(Date.now() + 5000));
      writeFileSync(file, policy('./a', 0.91));
      await holder.reload();
      const second = holder.current();
      expect(second.loaded.version).not.toBe(first.loaded.version);
      expect(second.guards.get('prompt_guard')).not.toBe(first.guards.get('prompt_guard'));
    } finally {
      await holder.close();
    }
  });
});

describe('a rejected reload', () => {
  test('the log says so, and says so again when the files are valid again, though nothing changed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-reload-fixed-'));
    const file = path.join(dir, 'policy.yaml');
    const lines: string[] = [];
    const holder = new PolicyHolder({ threads: 1, log: (line) => lines.push(line) });
    try {
      writeFileSync(file, policy(FIXTURE_MODEL));
      await holder.loadFile(file);
      writeFileSync(file, policy(FIXTURE_MODEL).replace('input:', 'inptu:'));
      expect((await holder.reload()).status).toBe('rejected');
      writeFileSync(file, policy(FIXTURE_MODEL));
      expect((await holder.reload()).status).toBe('unchanged');
      expect((await holder.reload()).status).toBe('unchanged');
      expect(lines.filter((l) => /^policy /.test(l)).map((l) => l.split(':')[0])).toEqual(['policy reload rejected; still in force', 'policy files valid again, unchanged from the set in force']);
    } finally {
      await holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('retires the guards it built before failing, and names the file and policy that failed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-reload-leak-'));
    const file = path.join(dir, 'policy.yaml');
    const holder = new PolicyHolder({ threads: 1, log: () => undefined });
    try {
      writeFileSync(file, policy(FIXTURE_MODEL));
      await holder.loadFile(file);
      expect(holder.guardsOpen).toBe(1);
      delete process.env.SG_TEST_UNSET_RELOAD_KEY;
      for (let i = 1; i <= 4; i++) {
        // A new local guard (a changed threshold budget makes it new) builds, then a remote one fails on its unset key.
        writeFileSync(
          file,
          `${policy(FIXTURE_MODEL, 0.9)}  - id: other
    guard: lg
    threshold: 0.5
`.replace('input:\n', `  lg:\n    type: llama_guard\n    backend: openai\n    model: m\n    base_url: http://127.0.0.1:9\n    api_key_env: SG_TEST_UNSET_RELOAD_KEY\ninput:\n`).replace('type: prompt_guard\n', `type: prompt_guard\n    timeout_ms: ${1000 + i}\n`),
        );
        const outcome = await holder.reload();
        expect(outcome.status).toBe('rejected');
        expect(outcome.problems?.join('\n')).toContain(`${file} (policy pinned)`);
        expect(holder.guardsOpen).toBe(1);
      }
    } finally {
      await holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

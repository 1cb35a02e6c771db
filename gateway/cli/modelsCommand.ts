import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createContentEncoderGuard } from '../../guards/contentEncoder';
import { fetchModel } from '../../guards/hub/hubFetch';
import { parseRepoId } from '../../guards/hub/hubFiles';
import { createLlamaGuard } from '../../guards/llamaGuard';
import { promptVariantOf } from '../../policies/llamaGuardVariant';
import { createPromptGuard } from '../../guards/promptGuard';
import type { Guard } from '../../guards/types';
import { loadPolicySet } from '../../policies/policySet';
import { defaultPolicyFile } from '../paths';

const USAGE = `usage:
  safety-gateway models list [--policy FILE]         guards the policy uses and where their models load from
  safety-gateway models verify DIR [--variant V]     check a model directory loads and runs
  safety-gateway models fetch REPO_ID --to DIR [--variant V]   download an ONNX export from the Hugging Face hub (HF_TOKEN for gated models)
`;


/** The text `models verify` runs a model on. */
const SAMPLE = 'Hello, can you help me plan a birthday party?';

export async function modelsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(USAGE);
    return 0;
  }
  switch (sub) {
    case 'list':
      return list(rest);
    case 'verify':
      return verify(rest);
    case 'fetch':
      return fetchCommand(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return sub === undefined ? 2 : 0;
    default:
      process.stderr.write(`safety-gateway models: unknown subcommand \`${sub}\`\n${USAGE}`);
      return 2;
  }
}

/** Every policy of the set the gateway would load (the main file and its `policies:`), each with its guards. */
function list(args: string[]): number {
  const { values } = parseArgs({ args, options: { policy: { type: 'string' } }, strict: true });
  const file = values.policy ?? process.env.SAFETY_POLICY ?? defaultPolicyFile();
  const set = loadPolicySet(file);
  for (const loaded of set.byId.values()) {
    process.stdout.write(`policy ${loaded.id}@${loaded.version} (${path.relative(process.cwd(), loaded.file) || loaded.file})\n`);
    for (const [name, spec] of Object.entries(loaded.policy.guards)) {
      const server = spec.type === 'llama_guard' ? (spec.backend === 'openai' ? spec.base_url : undefined) : spec.backend !== 'onnx' ? spec.url : undefined;
      const where = server !== undefined ? `${[server].flat().join(', ')} model ${spec.model}` : `${spec.model}${existsSync(spec.model) ? '' : '  (MISSING)'}`;
      const kind = `${spec.type}/${spec.backend}`;
      process.stdout.write(`  ${name.padEnd(16)} ${kind.padEnd(20)} ${where}${spec.variant ? `  variant ${spec.variant}` : ''}\n`);
    }
  }
  return 0;
}

/** Which guard code path a model directory belongs to, from its config.json. */
export function guardKindOf(config: Record<string, unknown>): 'decoder' | 'content_encoder' | 'prompt_guard' {
  const architectures = Array.isArray(config.architectures) ? (config.architectures as unknown[]).map(String) : [];
  if (architectures.some((a) => a.endsWith('ForCausalLM'))) return 'decoder';
  if (config.category_id2label) return 'content_encoder';
  return 'prompt_guard';
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { variant: { type: 'string' } }, allowPositionals: true, strict: true });
  const dir = positionals[0];
  if (!dir) {
    process.stderr.write(USAGE);
    return 1;
  }
  const configFile = path.join(dir, 'config.json');
  if (!existsSync(configFile)) {
    process.stderr.write(`FAIL ${dir}: no config.json (a model directory in Hugging Face layout has config.json, tokenizer.json, tokenizer_config.json and an ONNX file)\n`);
    return 1;
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    process.stderr.write(`FAIL ${dir}: config.json cannot be read as JSON (${(err as Error).message})\n`);
    return 1;
  }
  const kind = guardKindOf(config);
  let guard: Guard;
  if (kind === 'decoder') guard = createLlamaGuard({ backend: 'onnx', name: 'verify', modelDir: dir, variant: promptVariantOf({ config, name: path.basename(dir) }), onnxVariant: values.variant });
  else if (kind === 'content_encoder') guard = createContentEncoderGuard({ name: 'verify', modelDir: dir, variant: values.variant });
  else guard = createPromptGuard({ name: 'verify', modelDir: dir, variant: values.variant });
  try {
    await guard.load();
    const verdict = await guard.check({
      direction: 'input',
      texts: [{ source: 'user', path: 'verify', text: SAMPLE }],
      conversation: [{ role: 'user', content: SAMPLE }],
    });
    // A decoder with random or foreign weights may not answer in Llama Guard's format: loading and running is what verify checks.
    if (verdict.error && verdict.error.type !== 'parse_error') throw new Error(verdict.error.message);
    // The top label of an ordinary request can be a threat label under 0.5-ish scores: say that a policy's threshold decides.
    process.stdout.write(`OK ${dir}: ${kind}, model ${guard.model}; test run on an ordinary request ("${SAMPLE}"): top label ${verdict.label}, score ${verdict.score.toFixed(4)} (a policy blocks only at its rule's threshold), ${verdict.latencyMs.toFixed(1)} ms\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`FAIL ${dir}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await guard.close();
  }
}

async function fetchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { to: { type: 'string' }, variant: { type: 'string' } }, allowPositionals: true, strict: true });
  if (!positionals[0] || !values.to) {
    process.stderr.write(USAGE);
    return 1;
  }
  try {
    const ref = parseRepoId(positionals[0]);
    let last = '';
    const files = await fetchModel({
      ref,
      to: values.to,
      variant: values.variant,
      token: process.env.HF_TOKEN,
      onProgress: (file, received, total) => {
        const line = total ? `${file} ${((100 * received) / total).toFixed(0)}% of ${(total / 2 ** 20).toFixed(1)} MiB` : `${file} ${(received / 2 ** 20).toFixed(1)} MiB`;
        if (line !== last) process.stderr.write(`\r${line}`);
        last = line;
      },
    });
    process.stderr.write(`\nfetched ${files.length} files into ${values.to}; check them with: safety-gateway models verify ${values.to}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`safety-gateway models fetch: ${(err as Error).message}\n`);
    return 1;
  }
}

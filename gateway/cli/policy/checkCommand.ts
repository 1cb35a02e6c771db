import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasLocalModel } from '../../../policies/modelFingerprint';
import { loadPolicySet } from '../../../policies/policySet';
import type { GuardSpec } from '../../../policies/schema';
import { formatProblem, PolicyError } from '../../../policies/problems';
import { displayPath, type CliIo } from './io';

/**
 * What would keep the gateway from loading a policy's guards on this machine, without loading any
 * model: a local model directory without its config.json, an `api_key_env` that is not set. Warnings,
 * not errors: a check may run where models or secrets are not deployed (CI).
 */
export function deploymentWarnings(guards: Record<string, GuardSpec>, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(guards)) {
    if (hasLocalModel(spec) && !existsSync(path.join(spec.model, 'config.json'))) out.push(`guard ${name}: no model at ${spec.model} (config.json missing): the gateway would not start with it here`);
    if (spec.api_key_env && !env[spec.api_key_env]) out.push(`guard ${name}: api_key_env ${spec.api_key_env} is not set here: the gateway would not start without it`);
    if (spec.type === 'prompt_guard' && spec.tokenizer && !existsSync(path.join(spec.tokenizer, 'tokenizer.json'))) out.push(`guard ${name}: no tokenizer.json in ${spec.tokenizer}: the gateway would not start with it here`);
  }
  return out;
}

/**
 * `policy check FILE...`: schema and semantic checks of each file and everything it references
 * (`extends`, `policies`), without loading any model. Exit 1 when anything is wrong.
 */
export async function checkCommand(files: string[], io: CliIo): Promise<number> {
  // It takes no options: one read as a file name would be reported as an unreadable policy file.
  const option = files.find((f) => f.startsWith('-'));
  if (files.length === 0 || option !== undefined) {
    io.err(`${option !== undefined ? `unknown option ${option}\n` : ''}usage: safety-gateway policy check FILE...\n`);
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    try {
      const set = loadPolicySet(file);
      for (const policy of set.byId.values()) {
        const tests = policy.policy.tests.length;
        io.out(`ok  ${policy.id}@${policy.version}  ${displayPath(io, policy.file)}${tests ? `  (${tests} test${tests === 1 ? '' : 's'})` : ''}\n`);
        // What the gateway would refuse at start, said here too (no model is loaded: only what is there).
        for (const warning of deploymentWarnings(policy.policy.guards)) io.out(`    warning: ${warning}\n`);
      }
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      failed += 1;
      for (const problem of err.problems) io.out(`${formatProblem(problem, (f) => displayPath(io, f))}\n`);
      io.out(`${displayPath(io, file)}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n`);
    }
  }
  return failed ? 1 : 0;
}

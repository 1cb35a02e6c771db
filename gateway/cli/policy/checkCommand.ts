import { loadPolicySet } from '../../../policies/policySet';
import { formatProblem, PolicyError } from '../../../policies/problems';
import { displayPath, type CliIo } from './io';

/**
 * `policy check FILE...`: schema and semantic checks of each file and everything it references
 * (`extends`, `policies`), without loading any model. Exit 1 when anything is wrong.
 */
export async function checkCommand(files: string[], io: CliIo): Promise<number> {
  if (files.length === 0) {
    io.err('usage: safety-gateway policy check FILE...\n');
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    try {
      const set = loadPolicySet(file);
      for (const policy of set.byId.values()) {
        const tests = policy.policy.tests.length;
        io.out(`ok  ${policy.id}@${policy.version}  ${displayPath(io, policy.file)}${tests ? `  (${tests} test${tests === 1 ? '' : 's'})` : ''}\n`);
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

import { formatProblem, PolicyError } from '../../../policies/problems';
import { PolicyHolder } from '../../pipeline/runtime/policyRuntime';
import { displayPath, type CliIo } from './io';

/**
 * Loads a policy set and its real guards through the same PolicyHolder the gateway uses. Reports
 * problems (exit 1) the way `policy check` does; a model that cannot load is reported with the
 * guard's own message.
 */
export async function openHolder(file: string, io: CliIo): Promise<PolicyHolder | undefined> {
  const holder = new PolicyHolder({ threads: 1 });
  try {
    await holder.loadFile(file);
    return holder;
  } catch (err) {
    await holder.close();
    if (err instanceof PolicyError) {
      for (const problem of err.problems) io.out(`${formatProblem(problem, (f) => displayPath(io, f))}\n`);
      io.out(`${displayPath(io, file)}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}; run \`safety-gateway policy check\` for details\n`);
    } else {
      io.err(`cannot load the guards of ${displayPath(io, file)}: ${(err as Error).message}\n`);
    }
    return undefined;
  }
}

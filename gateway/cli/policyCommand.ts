import { checkCommand } from './policy/checkCommand';
import { explainCommand } from './policy/explainCommand';
import { processIo, type CliIo } from './policy/io';
import { schemaCommand } from './policy/schemaCommand';
import { testCommand } from './policy/testCommand';

const USAGE = `usage: safety-gateway policy <command>

commands:
  check FILE...                        schema and semantic checks, with file:line:column (no models loaded)
  test FILE [--policy ID]              run the file's \`tests:\` cases against the real guards
  explain FILE --prompt TEXT           every rule's guard score and the rule that decides
          [--conversation JSON] [--answer TEXT] [--policy ID] [--json]
  schema [--write | --check | --out FILE]
                                       the JSON Schema of policy files (policies/policy.schema.json)

Exit status: 0 ok, 1 problems or failed tests, 2 usage errors. Guide: policies/README.md
`;

/** `safety-gateway policy ...`: the policy authors' tools. Each subcommand lives in cli/policy/. */
export async function policyCommand(args: string[], io: CliIo = processIo): Promise<number> {
  const [sub, ...rest] = args;
  // `policy check --help` and the like: the usage, not a file named --help.
  if (sub !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(USAGE);
    return 0;
  }
  try {
    switch (sub) {
      case 'check':
        return await checkCommand(rest, io);
      case 'test':
        return await testCommand(rest, io);
      case 'explain':
        return await explainCommand(rest, io);
      case 'schema':
        return await schemaCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return sub === undefined ? 2 : 0;
      default:
        io.err(`safety-gateway policy: unknown command "${sub}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    // parseArgs rejects unknown or malformed options with a TypeError carrying a code.
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`safety-gateway policy ${sub}: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

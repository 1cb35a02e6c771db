import { auditCommand } from './auditCommand';
import { devEngineCommand } from './devEngineCommand';
import { evalCommand } from './evalCommand';
import { keysCommand } from './keysCommand';
import { modelsCommand } from './modelsCommand';
import { policyCommand } from './policyCommand';
import { reviewCommand } from './reviewCommand';
import { serveCommand } from './serveCommand';

/** One small dispatcher: `safety-gateway <command> [args]`. Each command lives in its own file. */
export type Command = (args: string[]) => Promise<number>;

/** `help: true`: the command prints its own usage for --help. */
const commands: Record<string, { run: Command; summary: string; help?: boolean }> = {
  serve: { run: serveCommand, summary: 'run the gateway [--port N] [--host H] [--engine-url URL] [--policy FILE] [--config FILE]' },
  'dev-engine': { run: devEngineCommand, summary: 'run the dev engine, a deterministic stand-in for the 405B model [--port N] [--host H] [--token-delay-ms MS]' },
  keys: { run: keysCommand, summary: 'manage API keys: add --app APP | list | revoke KEY_ID [--file FILE] (stored as hashes)', help: true },
  policy: { run: policyCommand, summary: 'for policy authors: check FILE | test FILE | explain FILE --prompt TEXT | schema (policy --help)', help: true },
  models: { run: modelsCommand, summary: 'guard models: list | verify DIR | fetch REPO_ID --to DIR', help: true },
  audit: { run: auditCommand, summary: 'read the audit log: query | verify [--public-key FILE] | stats [--dir DIR] | keygen --out DIR (audit --help)', help: true },
  review: { run: reviewCommand, summary: 'serve a read-only web page over the audit log: --audit-dir DIR [--port N] [--host H] [--public-key FILE] (review --help)', help: true },
  eval: { run: evalCommand, summary: 'measure a guard on labelled JSONL: --guard NAME --data FILE [--split S] [--task A|B] [--json] [--out DIR] (eval --help)', help: true },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'serve' || name === 'dev-engine' || name === 'review') logsNeverEndServer();
  else quietWhenReaderLeaves();
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`safety-gateway: unknown command "${name}"\n\n${usage()}`);
    return 1;
  }
  if (!command.help && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(commandUsage(name, command.summary));
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    // parseArgs refuses an unknown or malformed option: a usage error (2), with the usage.
    if (!(err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) throw err;
    process.stderr.write(`safety-gateway ${name}: ${(err as Error).message}\n${commandUsage(name, command.summary)}`);
    return 2;
  }
}

/**
 * A reader that stops early (`audit query --format jsonl | head -1`) closes the pipe: the rest of
 * the output goes nowhere, without the stack trace of an unhandled EPIPE. Not for the servers,
 * whose log lines must never be what ends them.
 */
function quietWhenReaderLeaves(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      // Nothing more can be read of it: stop as `head` expects, with the exit code the command has set so far.
      process.exit(process.exitCode ?? 0);
    });
  }
}

/**
 * A server's log has no reader any more (`serve | tee` after Ctrl-C, a log collector gone): its
 * lines are dropped. Unhandled, the EPIPE of the next line (the "draining" one) ended the process
 * mid-drain: streams cut, their records and the shutdown checkpoint lost.
 */
function logsNeverEndServer(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
}

function commandUsage(name: string, summary: string): string {
  return `usage: safety-gateway ${name} ...: ${summary}\n`;
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return `usage: safety-gateway <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export function registerCommand(name: string, run: Command, summary: string): void {
  commands[name] = { run, summary };
}

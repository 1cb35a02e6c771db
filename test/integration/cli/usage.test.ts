import { main } from '../../../gateway/cli/main';
import { keysCli, tempKeysFile } from '../../support/keys';

/** Runs the CLI in-process, capturing what it writes. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(args);
    return { code, out: out.mock.calls.map((c) => String(c[0])).join(''), err: err.mock.calls.map((c) => String(c[0])).join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('CLI usage', () => {
  test.each(['serve', 'dev-engine', 'models', 'models verify', 'keys', 'keys add', 'policy check', 'policy test', 'audit query', 'audit verify'])('%s --help prints the usage and exits 0, never runs', async (command) => {
    const run = await cli([...command.split(' '), '--help']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/usage/);
    expect(run.err).toBe('');
  });

  test('dev-engine: its usage names every flag; a port or delay that is not a number is a usage error (2), not a Node error', async () => {
    expect((await cli(['dev-engine', '--help'])).out).toMatch(/--port N.*--host H.*--token-delay-ms MS/);
    const port = await cli(['dev-engine', '--port', 'abc']);
    expect(port.code).toBe(2);
    expect(port.err).toBe('safety-gateway dev-engine: --port must be a port number 0-65535 (got "abc")\n');
    expect((await cli(['dev-engine', '--port', '70000'])).code).toBe(2);
    const delay = await cli(['dev-engine', '--token-delay-ms', 'fast']);
    expect(delay.code).toBe(2);
    expect(delay.err).toContain('--token-delay-ms must be a whole number');
  });

  // `--policy "$POLICY"` with the variable unset: it ran the shipped default policy (--engine-url "",
  // the dev engine; review --port "", a random port; eval --threshold "", threshold 0).
  test('a flag given an empty value is a usage error (2), never read as "not set"', async () => {
    for (const args of [['serve', '--policy', ''], ['serve', '--engine-url', ' '], ['serve', '--config', '']]) {
      const run = await cli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.err).toMatch(/--(policy|engine-url|config) was given an empty value/);
    }
    const host = await cli(['dev-engine', '--host', '']);
    expect(host).toMatchObject({ code: 2, err: expect.stringContaining('--host needs an interface address') });
    const review = await cli(['review', '--audit-dir', '.', '--port', '']);
    expect(review).toMatchObject({ code: 2, err: expect.stringContaining('--port must be a port number') });
    const reviewHost = await cli(['review', '--audit-dir', '.', '--host', '']);
    expect(reviewHost).toMatchObject({ code: 2, err: expect.stringContaining('--host needs an interface address') });
    const threshold = await cli(['eval', '--guard', 'prompt_guard', '--data', 'x.jsonl', '--threshold', '']);
    expect(threshold).toMatchObject({ code: 2, err: expect.stringContaining('--threshold must be a number between 0 and 1') });
    // Past what node's timers hold, every check timed out at once.
    const timeout = await cli(['eval', '--guard', 'prompt_guard', '--data', 'x.jsonl', '--timeout-ms', '3000000000']);
    expect(timeout).toMatchObject({ code: 2, err: expect.stringContaining('--timeout-ms must be at most 2147483647') });
  });

  test('an unknown option is a usage error (2) naming the command and its usage', async () => {
    const run = await cli(['serve', '--prot', '8080']);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^safety-gateway serve: Unknown option '--prot'/);
    expect(run.err).toContain('usage: safety-gateway serve');
  });

  test('policy check takes no options: one is a usage error (2), not a policy file it cannot read', async () => {
    const run = await cli(['policy', 'check', '--json', 'policies/default.yaml']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('unknown option --json');
    expect(run.out).toBe('');
  });

  test('keys list on a file that is not there says so instead of "no keys"', async () => {
    const run = await keysCli(['list', '--file', tempKeysFile()]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/keys\.yaml does not exist/);
  });
});

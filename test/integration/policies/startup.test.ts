import { serveCommand } from '../../../gateway/cli/serveCommand';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway } from '../../../gateway/server';
import { PolicyError } from '../../../policies/problems';
import { FIXTURE_POLICY } from '../../support/gatewayHarness';
import { PolicyDir } from './policyDir';

describe('start-up with an invalid policy set', () => {
  const files = new PolicyDir();
  afterAll(() => files.remove());
  // Never reached: the policy is loaded before the engine is contacted.
  const config = (policy: string) => GatewayConfig.parse({ port: 0, policy, engine: { url: 'http://127.0.0.1:9/v1' } });

  test('the gateway refuses to start, naming every problem with its location', async () => {
    files.write('main.yaml', `id: main\nextends: ${FIXTURE_POLICY}\npolicies: [./apps]\n`);
    files.write('apps/kids.yaml', 'id: kids\nextends: ../main.yaml\ninput:\n  - id: jailbreak\n    guard: prompt_guard\n    threshold: 9\n');
    const started = startGateway({ config: config(files.path('main.yaml')), watchPolicies: false });
    await expect(started).rejects.toThrow(PolicyError);
    await expect(startGateway({ config: config(files.path('main.yaml')), watchPolicies: false })).rejects.toThrow(/apps\/kids\.yaml:6:16: threshold must be between 0 and 1/);
  });

  test('`safety-gateway serve` exits 1 and says why', async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const code = await serveCommand(['--policy', files.write('cyclic.yaml', 'id: c\nextends: ./cyclic.yaml\n'), '--port', '0', '--engine-url', 'http://127.0.0.1:9/v1']);
      expect(code).toBe(1);
    } finally {
      write.mockRestore();
    }
    expect(lines.join('')).toMatch(/cannot start: .*cyclic\.yaml:2:10: cyclic `extends`: cyclic\.yaml -> cyclic\.yaml/);
  });
});

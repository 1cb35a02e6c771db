import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { ReloadOutcome } from '../../../gateway/pipeline/runtime/policyRuntime';
import { FIXTURE_POLICY, startHarness, type Harness } from '../../support/gatewayHarness';
import { PolicyDir } from './policyDir';

/**
 * The policy the gateway was given is a link to a file in another folder (a deploy tool's layout):
 * an edit of the real file reloads it, in place or saved over, as an edit of a plain file does.
 */
describe('a policy reached through a symbolic link to another folder', () => {
  const files = new PolicyDir();
  let h: Harness;
  const version = (n: number) => `id: linked\nextends: ${FIXTURE_POLICY}\ndescription: version ${n}\n`;
  beforeAll(async () => {
    const real = files.write(path.join('real', 'main.yaml'), version(0));
    mkdirSync(files.path('link'), { recursive: true });
    symlinkSync(real, files.path(path.join('link', 'main.yaml')));
    h = await startHarness({ policy: files.path(path.join('link', 'main.yaml')) });
    h.gateway.policies.watch({ debounceMs: 5 });
  });
  afterAll(async () => {
    await h?.close();
    files.remove();
  });

  const reloaded = () =>
    new Promise<ReloadOutcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reload within 5 s')), 5000);
      const stop = h.gateway.policies.onReload((o) => {
        clearTimeout(timer);
        stop();
        resolve(o);
      });
    });

  test.each([
    ['written in place', (n: number) => files.write(path.join('real', 'main.yaml'), version(n))],
    ['saved over (write, then rename)', (n: number) => files.save(path.join('real', 'main.yaml'), version(n))],
  ])('the real file %s: the gateway reloads it', async (_how, edit) => {
    const before = h.gateway.policies.current().ref;
    const next = reloaded();
    edit(Date.now());
    expect((await next).status).toBe('reloaded');
    expect(h.gateway.policies.current().ref).not.toBe(before);
  });
});

import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ReloadOutcome } from '../../gateway/pipeline/runtime/policyRuntime';
import { FIXTURE_POLICY, startHarness, type Harness } from '../support/gatewayHarness';

/**
 * A policy mounted from a Kubernetes ConfigMap: the kubelet's atomic writer keeps the files in a
 * timestamped directory, points `..data` at it, and links `policy.yaml -> ..data/policy.yaml`.
 * An update writes a new directory and renames a fresh `..data` link over the old one; the
 * visible link never changes. The gateway must take the new version without a restart.
 */
class ConfigMapVolume {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'sg-configmap-'));
  private generation = 0;
  private current?: string;

  /** Publishes `files` as the kubelet does: new data directory, `..data` swapped by rename, old one removed. */
  publish(files: Record<string, string>): void {
    const data = `..2026_01_01_00_00_0${this.generation++}.${process.pid}`;
    mkdirSync(path.join(this.dir, data));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(this.dir, data, name), text);
    symlinkSync(data, path.join(this.dir, '..data_tmp'));
    renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(path.join('..data', name), path.join(this.dir, name));
      } catch {
        /* the visible link exists from the first publish and is never touched again */
      }
    }
    if (this.current) rmSync(path.join(this.dir, this.current), { recursive: true });
    this.current = data;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const policy = (description: string) => `id: mounted\nextends: ${FIXTURE_POLICY}\ndescription: ${description}\n`;

describe('a policy mounted from a ConfigMap', () => {
  const volume = new ConfigMapVolume();
  let h: Harness;

  beforeAll(async () => {
    volume.publish({ 'policy.yaml': policy('first') });
    h = await startHarness({ policy: path.join(volume.dir, 'policy.yaml') });
  });
  afterAll(async () => {
    await h?.close();
    volume.remove();
  });

  function nextOutcome(): Promise<ReloadOutcome> {
    return new Promise((resolve) => {
      const stop = h.gateway.policies.onReload((o) => {
        stop();
        resolve(o);
      });
    });
  }

  test('an update (the ..data swap) is reloaded, and requests carry the new version', async () => {
    const before = h.gateway.policies.current().ref;
    expect(h.gateway.policies.current().loaded.policy.description).toBe('first');
    const reloaded = nextOutcome();
    volume.publish({ 'policy.yaml': policy('second') });
    expect((await reloaded).status).toBe('reloaded');
    expect(h.gateway.policies.current().loaded.policy.description).toBe('second');
    const res = await fetch(`${h.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }),
    });
    await res.arrayBuffer();
    expect(res.headers.get('x-safety-policy')).toBe(h.gateway.policies.current().ref);
    expect(res.headers.get('x-safety-policy')).not.toBe(before);
  });

  test('a broken update is refused and the last good version keeps serving', async () => {
    const good = h.gateway.policies.current().ref;
    const refused = nextOutcome();
    volume.publish({ 'policy.yaml': 'id: [unclosed\n' });
    expect((await refused).status).toBe('rejected');
    expect(h.gateway.policies.current().ref).toBe(good);
  });
});

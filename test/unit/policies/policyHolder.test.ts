import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolicyHolder, UnknownPolicyError } from '../../../gateway/pipeline/runtime/policyRuntime';
import { PolicyError } from '../../../policies/problems';

// Policies without guards: the holder's set handling is tested here without loading models.
const MAIN = 'id: main\npolicies: [./apps]\nrefusals:\n  output: main refusal\n';
const KIDS = 'id: kids\nextends: ../main.yaml\nrefusals:\n  output: kids refusal\n';

describe('PolicyHolder', () => {
  let dir: string;
  let holder: PolicyHolder;
  const file = (name: string, text: string) => writeFileSync(path.join(dir, name), text);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'policy-holder-'));
    mkdirSync(path.join(dir, 'apps'));
    file('main.yaml', MAIN);
    file('apps/kids.yaml', KIDS);
    holder = new PolicyHolder({ threads: 1 });
    await holder.loadFile(path.join(dir, 'main.yaml'));
  });
  afterEach(async () => {
    await holder.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a request gets its app's policy by id, the main policy without one", () => {
    expect(holder.current().loaded.id).toBe('main');
    expect(holder.current('kids').loaded.policy.refusals.output).toBe('kids refusal');
    expect(holder.current('main').loaded.id).toBe('main');
    expect(holder.all().map((r) => r.loaded.id)).toEqual(['main', 'kids']);
    expect(holder.current('kids').ref).toMatch(/^kids@[0-9a-f]{12}$/);
  });

  test('an unknown policy id fails closed with a 503 naming it, never the default policy', () => {
    let error: unknown;
    try {
      holder.current('ghost');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnknownPolicyError);
    expect((error as UnknownPolicyError).status).toBe(503);
    expect((error as UnknownPolicyError).body().error).toMatchObject({ code: 'policy_unavailable', type: 'api_error' });
    expect((error as UnknownPolicyError).message).toContain('`ghost`');
  });

  test('a valid change is swapped in; a runtime taken before keeps its version', async () => {
    const before = holder.current('kids');
    file('apps/kids.yaml', KIDS.replace('kids refusal', 'new kids refusal'));
    const outcome = await holder.reload();
    expect(outcome.status).toBe('reloaded');
    expect(holder.current('kids').loaded.policy.refusals.output).toBe('new kids refusal');
    expect(holder.current('kids').ref).not.toBe(before.ref);
    expect(before.loaded.policy.refusals.output).toBe('kids refusal');
    expect(outcome.policies).toEqual([holder.current().ref, holder.current('kids').ref]);
  });

  test('a change to a base file changes every policy built on it', async () => {
    const kids = holder.current('kids').ref;
    file('main.yaml', MAIN + 'description: changed\n');
    await holder.reload();
    expect(holder.current('kids').ref).not.toBe(kids);
  });

  test('an invalid change is rejected with its location; the last good set stays in force and is reported', async () => {
    const good = holder.all().map((r) => r.ref);
    file('apps/kids.yaml', KIDS + 'input:\n  - id: r\n    guard: nope\n    threshold: 0.5\n');
    const outcome = await holder.reload();
    expect(outcome.status).toBe('rejected');
    expect(outcome.problems).toEqual([expect.stringMatching(/apps\/kids\.yaml:7:12: unknown guard `nope`/)]);
    expect(holder.all().map((r) => r.ref)).toEqual(good);
    expect(holder.reloadStatus()).toMatchObject({ counts: { rejected: 1, reloaded: 0 }, last: { status: 'rejected' } });
    // An empty file, a new app with a duplicate id: each rejected the same way.
    file('apps/kids.yaml', '');
    expect((await holder.reload()).status).toBe('rejected');
    file('apps/kids.yaml', KIDS);
    file('apps/copy.yaml', KIDS);
    expect((await holder.reload()).problems?.[0]).toContain('policy id `kids` is already used');
    rmSync(path.join(dir, 'apps', 'copy.yaml'));
    expect((await holder.reload()).status).toBe('unchanged');
    expect(holder.all().map((r) => r.ref)).toEqual(good);
    expect(holder.reloadStatus().last?.status).toBe('unchanged');
  });

  test('a change whose guards cannot load (a model directory that is not there) is rejected too', async () => {
    const good = holder.all().map((r) => r.ref);
    file('apps/kids.yaml', `${KIDS}guards:\n  pg:\n    type: prompt_guard\n    model: ./no-such-model\n`);
    const outcome = await holder.reload();
    expect(outcome.status).toBe('rejected');
    expect(outcome.problems?.[0]).toMatch(/^cannot load the policy's guards: .*no-such-model/);
    expect(holder.all().map((r) => r.ref)).toEqual(good);
  });

  test('a new app file in a listed directory joins the set on reload', async () => {
    file('apps/research.yaml', 'id: research\nextends: ../main.yaml\n');
    await holder.reload();
    expect(holder.current('research').loaded.id).toBe('research');
  });

  test('reload listeners hear every outcome; concurrent reload calls share one run', async () => {
    const heard: string[] = [];
    holder.onReload((o) => heard.push(o.status));
    file('main.yaml', MAIN + '# edit\ndescription: x\n');
    const [a, b] = await Promise.all([holder.reload(), holder.reload()]);
    expect(a).toBe(b);
    expect(heard).toEqual(['reloaded']);
  });

  test('loading an invalid set throws with every problem: the gateway refuses to start', async () => {
    file('main.yaml', 'id: main\nguards: {x: {type: prompt_guard}}\n');
    const fresh = new PolicyHolder({ threads: 1 });
    await expect(fresh.loadFile(path.join(dir, 'main.yaml'))).rejects.toThrow(PolicyError);
    await expect(fresh.loadFile(path.join(dir, 'main.yaml'))).rejects.toThrow(/main\.yaml:2:\d+: missing required field `model`/);
    expect(fresh.loaded).toBe(false);
    await fresh.close();
  });
});

describe('PolicyHolder: guards a reload replaced', () => {
  const tei = (url: string) => `id: main\nguards:\n  pg:\n    type: prompt_guard\n    backend: tei\n    model: meta-llama/Prompt-Guard-86M\n    url: ${url}\ninput:\n  - id: jb\n    guard: pg\n    threshold: 0.9\n`;

  test('stay open as long as a request of the old version may still run (its input checks, the engine total timeout, its answer checks), then close', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'policy-retire-'));
    const file = path.join(dir, 'main.yaml');
    writeFileSync(file, tei('http://tei-a:8080'));
    const holder = new PolicyHolder({ threads: 1, longestRequestMs: 600_000 });
    try {
      await holder.loadFile(file);
      const old = holder.current().guards.get('pg')!;
      const closed = jest.spyOn(old, 'close');
      jest.useFakeTimers();
      writeFileSync(file, tei('http://tei-b:8080'));
      expect((await holder.reload()).status).toBe('reloaded');
      expect(holder.current().guards.get('pg')).not.toBe(old);
      // A request that started just before the reload: up to 240 s of input checks (the guard's
      // budget cap), a 10-minute stream whose windows are checked, 240 s for the whole answer.
      jest.advanceTimersByTime(60_000 + 240_000 + 600_000 + 239_000);
      expect(closed).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1_000);
      expect(closed).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
      await holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

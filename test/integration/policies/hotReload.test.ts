import type { ReloadOutcome } from '../../../gateway/pipeline/runtime/policyRuntime';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { FIXTURE_POLICY, startHarness, type Harness } from '../../support/gatewayHarness';
import { startLoad } from './loadClients';
import { PolicyDir } from './policyDir';

/**
 * The fixture's own guards (read from its file, model paths made absolute), each with a 30 s
 * deadline instead of its default (5 s for prompt_guard): 200 clients, the gateway and the dev
 * engine share this process's one event loop, and in a fresh-clone CI run, beside another test
 * file on 2 cores, checks waited past 5 s (503 guard_unavailable, prompt_guard: timeout). 30 s
 * still fires well inside the test's own limit, so a reload that stalls the guards for 30 s or
 * more still fails it.
 */
function fixtureGuardsWithDeadline(timeoutMs: number): string {
  const fixture = parse(readFileSync(FIXTURE_POLICY, 'utf8')) as { guards: Record<string, { model: string }> };
  const guards = Object.fromEntries(
    Object.entries(fixture.guards).map(([name, guard]) => [name, { ...guard, model: path.resolve(path.dirname(FIXTURE_POLICY), guard.model), timeout_ms: timeoutMs }]),
  );
  return stringify({ guards });
}
const GUARDS = fixtureGuardsWithDeadline(30_000);
const valid = (n: number) => `id: live\nextends: ${FIXTURE_POLICY}\ndescription: version ${n}\n${GUARDS}`;
/** The ways a save can be broken, in turn: each must be rejected while the last good version serves. */
const INVALID = [
  (n: number) => `id: live\nextends: ${FIXTURE_POLICY}\ndescription: broken ${n}\ninput:\n  - id: r\n    guard: no_such_guard\n    threshold: 0.5\n`,
  () => '',
  () => 'id: [unclosed\n',
  (n: number) => `id: live\nextends: ${FIXTURE_POLICY}\ndescription: broken ${n}\nstreaming:\n  mode: window\n  mode: buffer\n`,
  (n: number) => `id: live\nextends: ${FIXTURE_POLICY}\ndescription: broken ${n}\noutput:\n  - id: unsafe-answer\n    guard: llama_guard\n    threshold: 1.5\n`,
  () => 'id: live\nextends: ./live.yaml\n',
];

const CLIENTS = 200;
const WRITES = 100;

describe('hot reload under load', () => {
  const files = new PolicyDir();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: files.write('live.yaml', valid(0)), tokenDelayMs: 1 });
    // A short quiet time keeps the 100 rewrites quick; the behaviour is the default's.
    h.gateway.policies.watch({ debounceMs: 5 });
  });
  afterAll(async () => {
    await h?.close();
    files.remove();
  });

  /** Resolves with the first reload outcome, after this call, that satisfies `done`. */
  function nextOutcome(done: (o: ReloadOutcome) => boolean): Promise<ReloadOutcome> {
    return new Promise((resolve) => {
      const stop = h.gateway.policies.onReload((o) => {
        if (done(o)) {
          stop();
          resolve(o);
        }
      });
    });
  }
  const inForce = () => h.gateway.policies.current();

  /** Writes version after version, each time waiting until the gateway took it (valid) or refused it (invalid). */
  async function rewrite(): Promise<{ installed: string[]; rejected: ReloadOutcome[] }> {
    const installed = [inForce().ref];
    const rejected: ReloadOutcome[] = [];
    for (let i = 1; i <= WRITES; i++) {
      // Alternate the two ways tools write files: in place, and editors' write-then-rename.
      const write = (text: string) => (Math.floor(i / 2) % 2 === 0 ? files.save('live.yaml', text) : files.write('live.yaml', text));
      if (i % 2 === 0) {
        const applied = nextOutcome((o) => o.status === 'reloaded' && inForce().loaded.policy.description === `version ${i}`);
        write(valid(i));
        await applied;
        installed.push(inForce().ref);
      } else {
        const refused = nextOutcome((o) => o.status === 'rejected');
        write(INVALID[Math.floor(i / 2) % INVALID.length](i));
        rejected.push(await refused);
        // The last good version is still the one in force.
        expect(inForce().ref).toBe(installed[installed.length - 1]);
      }
    }
    return { installed, rejected };
  }

  test(`${CLIENTS} concurrent clients while the file is rewritten ${WRITES} times, valid and invalid alternating`, async () => {
    const load = startLoad(h.baseUrl, CLIENTS);
    let result: { installed: string[]; rejected: ReloadOutcome[] };
    try {
      // Every client has been answered once before the first rewrite...
      await load.responsesReach(CLIENTS);
      result = await rewrite();
      // ...and clients keep running on the final version for a while after the last one.
      await load.responsesReach(load.seen.length + CLIENTS);
    } finally {
      await load.stop();
    }
    const { installed, rejected } = result;
    const final = installed[installed.length - 1];

    // No request failed.
    expect(load.seen.filter((s) => s.status !== 200)).toEqual([]);
    // Each request saw one version from start to end: its header is the version of every decision
    // recorded for it (the input check and each output check).
    // Matched by the client's own id (the gateway issues its own request ids).
    const records = new Map(h.recorder.records.map((r) => [r.clientRequestId, r]));
    const mixed = load.seen.filter((s) => {
      const record = records.get(s.requestId);
      if (!record) return true;
      const versions = new Set([`${record.policy.id}@${record.policy.version}`]);
      if (record.input) versions.add(`${record.input.decision.policy.id}@${record.input.decision.policy.version}`);
      for (const o of record.outputs) versions.add(`${o.decision.policy.id}@${o.decision.policy.version}`);
      return versions.size !== 1 || !versions.has(s.header as string) || record.outputs.length === 0;
    });
    expect(mixed).toEqual([]);
    // Only installed versions were ever served; the swaps happened under load.
    const served = new Set(load.seen.map((s) => s.header));
    expect([...served].filter((v) => !installed.includes(v as string))).toEqual([]);
    expect(served).toContain(installed[0]);
    expect(served).toContain(final);
    expect(new Set(installed).size).toBe(WRITES / 2 + 1);

    // Every invalid save was refused, with its location.
    expect(rejected).toHaveLength(WRITES / 2);
    for (const outcome of rejected) expect(outcome.problems?.[0]).toMatch(/live\.yaml:\d+:\d+: /);

    // The final version is in force: new requests, readyz and the holder agree.
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'after' }] }) });
    expect(res.headers.get('x-safety-policy')).toBe(final);
    expect(inForce().loaded.policy.description).toBe(`version ${WRITES}`);
    const ready = (await (await fetch(`${h.gateway.url}/readyz`)).json()) as { policy: string; policy_reload?: unknown };
    expect(ready.policy).toBe(final);
    expect(ready.policy_reload).toBeUndefined();
  }, 120_000);

  test('readyz reports a rejected reload, still ready, while the last good version keeps serving', async () => {
    const good = inForce().ref;
    const refused = nextOutcome((o) => o.status === 'rejected');
    files.save('live.yaml', valid(1000).replace('description', 'descripton'));
    await refused;
    const res = await fetch(`${h.gateway.url}/readyz`);
    expect(res.status).toBe(200);
    const ready = (await res.json()) as { policy: string; policy_reload: { status: string; problems: string[] } };
    expect(ready.policy).toBe(good);
    expect(ready.policy_reload.status).toBe('rejected');
    expect(ready.policy_reload.problems[0]).toMatch(/live\.yaml:3:1: unknown field `descripton`; did you mean `description`\?/);
    const chat = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'still here' }] }) });
    expect(chat.status).toBe(200);
    expect(chat.headers.get('x-safety-policy')).toBe(good);
  });
});

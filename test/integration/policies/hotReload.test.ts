import type { ReloadOutcome } from '../../../gateway/policyRuntime';
import { FIXTURE_POLICY, readSse, startHarness, type Harness } from '../../support/gatewayHarness';
import { PolicyDir } from './policyDir';

const valid = (n: number) => `id: live\nextends: ${FIXTURE_POLICY}\ndescription: version ${n}\n`;
/** The ways a save can be broken, in turn: each must be rejected while the last good version serves. */
const INVALID = [
  (n: number) => `id: live\nextends: ${FIXTURE_POLICY}\ndescription: broken ${n}\ninput:\n  - id: r\n    guard: no_such_guard\n    threshold: 0.5\n`,
  () => '',
  () => 'id: [unclosed\n',
  (n: number) => `id: live\nextends: ${FIXTURE_POLICY}\ndescription: broken ${n}\nstreaming:\n  mode: window\n  mode: buffer\n`,
  (n: number) => `id: live\nextends: ${FIXTURE_POLICY}\ndescription: broken ${n}\noutput:\n  - id: unsafe-answer\n    guard: llama_guard\n    threshold: 1.5\n`,
  () => `id: live\nextends: ./live.yaml\n`,
];

const WORKERS = 200;
const WRITES = 100;

interface Seen {
  requestId: string;
  status: number;
  header: string | null;
}

describe('hot reload under load', () => {
  const files = new PolicyDir();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: files.write('live.yaml', valid(0)), tokenDelayMs: 1 });
    // A short quiet time keeps the 100 rewrites quick; the behaviour is the same as the default's.
    h.gateway.policies.watch({ debounceMs: 5 });
  });
  afterAll(async () => {
    await h?.close();
    files.remove();
  });

  /** Resolves with the first reload outcome (after this call) that satisfies `done`. */
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
  const description = () => h.gateway.policies.current().loaded.policy.description;

  test(`${WORKERS} concurrent clients, ${WRITES} rewrites (valid and invalid alternating): no failure, no mixed versions, the last version in force`, async () => {
    const seen: Seen[] = [];
    let stop = false;
    let counter = 0;
    const waiters: { count: number; resolve: () => void }[] = [];
    const onResponse = () => {
      for (const w of waiters.filter((w) => seen.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    };
    const responsesReach = (count: number) => new Promise<void>((resolve) => (seen.length >= count ? resolve() : waiters.push({ count, resolve })));

    const worker = async (w: number) => {
      while (!stop) {
        const requestId = `load-${w}-${counter++}`;
        const stream = counter % 2 === 0;
        try {
          const res = await fetch(`${h.baseUrl}/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-request-id': requestId },
            body: JSON.stringify({ model: 'dev', stream, messages: [{ role: 'user', content: `request ${requestId}` }] }),
          });
          // The whole body, so the request spans its full life (streams included) before it counts.
          if (stream) await readSse(res);
          else await res.text();
          seen.push({ requestId, status: res.status, header: res.headers.get('x-safety-policy') });
        } catch (err) {
          seen.push({ requestId, status: 0, header: `failed: ${(err as Error).message}` });
        }
        onResponse();
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));

    try {
      await rewriteUnderLoad();
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    async function rewriteUnderLoad() {
    // Every worker is busy before the first rewrite.
    await responsesReach(WORKERS);
    const installed: string[] = [h.gateway.policies.current().ref];
    const rejected: ReloadOutcome[] = [];
    for (let i = 1; i <= WRITES; i++) {
      const isValid = i % 2 === 0;
      const text = isValid ? valid(i) : INVALID[Math.floor(i / 2) % INVALID.length](i);
      if (isValid) {
        const applied = nextOutcome((o) => o.status === 'reloaded' && description() === `version ${i}`);
        // Alternate the two ways editors and tools write files.
        if (i % 4 === 0) files.save('live.yaml', text);
        else files.write('live.yaml', text);
        await applied;
        installed.push(h.gateway.policies.current().ref);
      } else {
        const refused = nextOutcome((o) => o.status === 'rejected');
        if (i % 4 === 1) files.save('live.yaml', text);
        else files.write('live.yaml', text);
        rejected.push(await refused);
        // The last good version is still the one in force.
        expect(h.gateway.policies.current().ref).toBe(installed[installed.length - 1]);
      }
    }
    const final = installed[installed.length - 1];
    // Requests keep running on the final version for a while before the clients stop.
    const countAtEnd = seen.length;
    await responsesReach(countAtEnd + WORKERS);
    stop = true;
    await Promise.all(workers);

    // No request failed.
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    // Each request saw one version from start to end: the header it got is the version of every
    // decision recorded for it (input and each output check).
    const records = new Map(h.recorder.records.map((r) => [r.requestId, r]));
    for (const s of seen) {
      const record = records.get(s.requestId);
      if (!record) throw new Error(`no record for ${s.requestId}`);
      const versions = new Set([`${record.policy.id}@${record.policy.version}`]);
      if (record.input) versions.add(`${record.input.decision.policy.id}@${record.input.decision.policy.version}`);
      for (const o of record.outputs) versions.add(`${o.decision.policy.id}@${o.decision.policy.version}`);
      expect([...versions]).toEqual([s.header]);
      expect(installed).toContain(s.header);
    }
    // The swaps happened under load: clients saw the first and the last version, and others between.
    const versionsSeen = new Set(seen.map((s) => s.header));
    expect(versionsSeen).toContain(installed[0]);
    expect(versionsSeen).toContain(final);
    expect(new Set(installed).size).toBe(WRITES / 2 + 1);

    // Every invalid save was reported with its location, and never installed.
    expect(rejected).toHaveLength(WRITES / 2);
    for (const outcome of rejected) expect(outcome.problems?.[0]).toMatch(/live\.yaml:\d+:\d+: /);

    // The final version is in force: new requests, readyz and the holder agree.
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'after' }] }) });
    expect(res.headers.get('x-safety-policy')).toBe(final);
    expect(description()).toBe(`version ${WRITES}`);
    const ready = (await (await fetch(`${h.gateway.url}/readyz`)).json()) as { policy: string; policy_reload?: unknown };
    expect(ready.policy).toBe(final);
    expect(ready.policy_reload).toBeUndefined();
  }, 120_000);

  test('readyz reports a rejected reload while the last good version keeps serving', async () => {
    const good = h.gateway.policies.current().ref;
    const refused = nextOutcome((o) => o.status === 'rejected');
    files.save('live.yaml', valid(1000).replace('description', 'descripton'));
    await refused;
    const res = await fetch(`${h.gateway.url}/readyz`);
    expect(res.status).toBe(200);
    const ready = (await res.json()) as { policy: string; policy_reload: { status: string; problems: string[] } };
    expect(ready.policy).toBe(good);
    expect(ready.policy_reload.status).toBe('rejected');
    expect(ready.policy_reload.problems[0]).toMatch(/live\.yaml:3:1: unknown field `descripton`; did you mean `description`\?/);
  });
});

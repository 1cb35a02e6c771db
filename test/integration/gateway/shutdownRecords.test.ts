import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { GatewayConfig } from '../../../gateway/config';
import type { RequestRecord } from '../../../gateway/record/requestRecord';
import { startGateway } from '../../../gateway/server';
import { MemoryRecorder } from '../../support/gatewayHarness';
import { defaultPolicyWithFixtureModels } from '../../bypass/support';
import { startFakeGuardServer } from '../../support/fakeGuardServers';
import { remoteLlamaGuardPolicy } from '../../support/remoteGuardPolicy';

/** A recorder on a slow disk: each record is durable only after a while (fsync always, under load). */
class SlowRecorder extends MemoryRecorder {
  override async record(record: RequestRecord): Promise<void> {
    await new Promise((r) => setTimeout(r, 300));
    await super.record(record);
  }
}

/**
 * Shutdown destroys the connections still open after its grace period. Their calls notice and
 * record it (503 gateway_shutdown: the gateway cut them, not the client); shutdown waits for those
 * records before it closes the audit log, so a request cut off by a restart still leaves its record.
 */
describe('shutdown and the records of cut-off requests', () => {
  let engine: DevEngine;
  beforeAll(async () => {
    engine = await startDevEngine({ tokenDelayMs: 50 });
  });
  afterAll(() => engine.close());

  test('a stream cut off after the grace period is recorded before shutdown returns', async () => {
    const recorder = new SlowRecorder();
    const config = GatewayConfig.parse({ port: 0, policy: defaultPolicyWithFixtureModels(), engine: { url: engine.baseUrl } });
    const gateway = await startGateway({ config, recorder });
    await fetch(`${engine.baseUrl.replace(/\/v1$/, '')}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'slow words '.repeat(200) }) });
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    // The default policy streams (window mode): the first checked words are out, the rest is coming.
    await reader.read();
    const reading = (async () => {
      try {
        while (!(await reader.read()).done);
      } catch {
        /* cut off */
      }
    })();
    // Sockets still open are destroyed at 1.5 s; the last quarter of the grace period is for their records.
    await gateway.shutdown(2000);
    await reading;
    expect(recorder.records).toHaveLength(1);
    expect(recorder.records[0]).toMatchObject({ status: 503, error: { type: 'gateway_shutdown', message: expect.stringMatching(/shut down before the answer was complete/) } });
  });

  test('a request cut off while its guard check still runs: the record blames the shutdown, guard fault included', async () => {
    const fake = await startFakeGuardServer('vllm');
    try {
      fake.behave({ kind: 'hang' });
      const recorder = new MemoryRecorder();
      // The guard's own timeout (5 s) is far past the grace period: only the shutdown ends the check.
      const policy = remoteLlamaGuardPolicy(fake.baseUrl, fake.model, { guard: { timeout_ms: 5000 } });
      const config = GatewayConfig.parse({ port: 0, policy, engine: { url: engine.baseUrl }, guards: { probe_timeout_ms: 200 } });
      const gateway = await startGateway({ config, recorder });
      const answer = fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'a question the guard never answers' }] }),
      }).then(
        (r) => r.status,
        () => 'cut',
      );
      await new Promise((r) => setTimeout(r, 200));
      await gateway.shutdown(800);
      expect(await answer).toBe('cut');
      expect(recorder.records).toHaveLength(1);
      expect(recorder.records[0]).toMatchObject({ status: 503, error: { type: 'gateway_shutdown' }, guardFault: { errorTypes: ['gateway_shutdown'] } });
    } finally {
      await fake.close();
    }
  });
});

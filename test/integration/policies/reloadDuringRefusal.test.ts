/** The policy version a refusal names in its answer header is the one its audit record names, also when a reload lands while the record is written. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { GatewayConfig } from '../../../gateway/config';
import type { DecisionRecorder, RejectionRecord, RequestRecord } from '../../../gateway/record/requestRecord';
import { startGateway, type RunningGateway } from '../../../gateway/server';

// No guards: the policy's own request_fields refuse `foo` before any guard runs.
const POLICY = (d: string) => `id: p\ndescription: ${d}\nrequest_fields:\n  refuse: [chat_template, foo]\n`;

describe('a refusal the policy made, while a reload lands during its audit write', () => {
  let dir: string;
  let engine: DevEngine;
  let gateway: RunningGateway;
  const rejections: RejectionRecord[] = [];
  let onRejection: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'refusal-reload-'));
    writeFileSync(path.join(dir, 'p.yaml'), POLICY('v1'));
    engine = await startDevEngine({ tokenDelayMs: 0 });
    const recorder: DecisionRecorder = {
      async record(_r: RequestRecord) {},
      async recordRejection(r: RejectionRecord) {
        rejections.push(structuredClone(r));
        // A slow audit write (fsync) during which the operator's edit is reloaded.
        await onRejection?.();
      },
    };
    const config = GatewayConfig.parse({ port: 0, policy: path.join(dir, 'p.yaml'), engine: { url: engine.baseUrl } });
    gateway = await startGateway({ config, recorder, watchPolicies: false });
  });
  afterAll(async () => {
    await gateway.shutdown(1000);
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the answer names the policy version that refused it, as its audit record does', async () => {
    const before = gateway.policies.current().ref;
    onRejection = async () => {
      writeFileSync(path.join(dir, 'p.yaml'), POLICY('v2'));
      await gateway.policies.reload();
    };
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], foo: 1 }),
    });
    const body = (await res.json()) as { error: { code: string } };
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('unsupported_parameter');
    expect(gateway.policies.current().ref).not.toBe(before); // the reload happened
    const record = rejections[rejections.length - 1] as RejectionRecord & { policy?: { id: string; version: string } };
    expect(`${record.policy?.id}@${record.policy?.version}`).toBe(before);
    // The client's header must name the same version as the record.
    expect(res.headers.get('x-safety-policy')).toBe(before);
  });
});

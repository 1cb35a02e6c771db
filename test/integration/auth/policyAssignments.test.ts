import { GatewayConfig } from '../../../gateway/config';
import { startGateway } from '../../../gateway/server';
import { hashApiKey } from '../../../gateway/access/auth/apiKey';
import { FIXTURE_POLICY, MemoryRecorder } from '../../support/gatewayHarness';
import { startDevEngine } from '../../../engine/devEngine/server';
import { addKey, eventually, tempKeysFile } from '../../support/keys';

/** A key assigned a policy that no loaded file defines: its app fails closed, and the operator is told at start. */
test('the gateway warns at start about keys assigned a policy that is not loaded', async () => {
  const engine = await startDevEngine({ tokenDelayMs: 0 });
  const lines: string[] = [];
  const key = 'sk-sg-policy-assignment-test-0123456789';
  const config = GatewayConfig.parse({
    port: 0,
    policy: FIXTURE_POLICY,
    engine: { url: engine.baseUrl },
    keys: { inline: [{ app: 'orphan-app', hash: hashApiKey(key), policy: 'retired-policy' }] },
  });
  const gateway = await startGateway({ config, recorder: new MemoryRecorder(), log: (l) => lines.push(l) });
  try {
    expect(lines.filter((l) => l.startsWith('WARNING: keys: policy `retired-policy` (assigned to orphan-app) is not loaded'))).toHaveLength(1);
    const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(res.status).toBe(503);
  } finally {
    await gateway.shutdown(1000);
    await engine.close();
  }
});

test('and again when a reloaded keys file assigns one', async () => {
  const engine = await startDevEngine({ tokenDelayMs: 0 });
  const lines: string[] = [];
  const file = tempKeysFile();
  await addKey(file, 'first-app');
  const config = GatewayConfig.parse({ port: 0, policy: FIXTURE_POLICY, engine: { url: engine.baseUrl }, keys: { file, reload_interval_ms: 50 } });
  const gateway = await startGateway({ config, recorder: new MemoryRecorder(), log: (l) => lines.push(l) });
  try {
    expect(lines.some((l) => l.startsWith('WARNING: keys: policy'))).toBe(false);
    await addKey(file, 'late-app', ['--policy', 'not-there']);
    // Up to 20 s: the file is polled every 50 ms, but a loaded CI machine can take seconds.
    await eventually(async () => lines.some((l) => l.startsWith('WARNING: keys: policy `not-there` (assigned to late-app)')), 'the reload warning', 400);
  } finally {
    await gateway.shutdown(1000);
    await engine.close();
  }
});

import { startFakeGuardServer, type FakeGuardServer } from '../../support/fakeGuardServers';
import { remoteLlamaGuardPolicy } from '../../support/remoteGuardPolicy';
import { startRealGateway } from '../telemetry/realGateway';

/**
 * A policy that names an environment variable for a guard server's key, unset: the gateway
 * refuses to start and says which variable (sent without its key, every check would be a 401 and
 * every request blocked, with nothing at startup saying why).
 */
const policyFile = (baseUrl: string, model: string, envName: string) => remoteLlamaGuardPolicy(baseUrl, model, { guard: { api_key_env: envName }, output: false });

describe('api_key_env', () => {
  let fake: FakeGuardServer;
  beforeAll(async () => {
    fake = await startFakeGuardServer('vllm', { apiKey: 'lg-secret' });
    fake.behave({ kind: 'answer', text: 'safe' });
  });
  afterAll(async () => fake.close());

  test('unset: the gateway does not start, and names the variable', async () => {
    delete process.env.SG_TEST_GUARD_KEY_UNSET;
    await expect(startRealGateway({ policy: policyFile(fake.baseUrl, fake.model, 'SG_TEST_GUARD_KEY_UNSET') })).rejects.toThrow(/SG_TEST_GUARD_KEY_UNSET.*not set/);
  });

  test('set: the key is sent and requests are answered', async () => {
    process.env.SG_TEST_GUARD_KEY_SET = 'lg-secret';
    const gw = await startRealGateway({ policy: policyFile(fake.baseUrl, fake.model, 'SG_TEST_GUARD_KEY_SET') });
    try {
      const res = await gw.chat({ messages: [{ role: 'user', content: 'hello' }] });
      expect(res.status).toBe(200);
      expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer lg-secret');
    } finally {
      await gw.close();
      delete process.env.SG_TEST_GUARD_KEY_SET;
    }
  });
});

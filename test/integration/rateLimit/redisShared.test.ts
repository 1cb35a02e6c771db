import Redis from 'ioredis';
import { startHarness, type Harness } from '../../support/gatewayHarness';
import { addKey, eventually, keysCli, tempKeysFile } from '../../support/keys';
import { redisServerPath, startRedis, type RedisServer } from '../../support/redisServer';

const chat = (h: Harness, key: string) =>
  fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }),
  }).then(async (res) => {
    await res.arrayBuffer();
    return res;
  });

/** Two gateways that share nothing but a real redis-server (separate engines, recorders, limiter processes' memory). */
(redisServerPath() ? describe : describe.skip)('rate limits shared through Redis', () => {
  let redis: RedisServer;
  let a: Harness;
  let b: Harness;
  let file: string;
  let inspect: Redis;
  const idOf = async (app: string) => ((JSON.parse((await keysCli(['list', '--file', file, '--json'])).out) as { id: string; app: string }[]).find((k) => k.app === app)!.id);

  beforeAll(async () => {
    redis = await startRedis();
    file = tempKeysFile();
    const config = { keys: { file, reload_interval_ms: 50 }, rate_limits: { store: 'redis', redis_url: redis.url, key_prefix: 'sgtest' } };
    a = await startHarness({ config });
    b = await startHarness({ config });
    inspect = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    inspect.disconnect();
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  test('two gateways count one limit: 2 + 2 requests spend an rpm of 4, the fifth is refused on either', async () => {
    const key = await addKey(file, 'shared-app', ['--rpm', '4']);
    await eventually(async () => (await chat(a, key)).status === 200, 'gateway A sees the key');
    await eventually(async () => (await chat(b, key)).status === 200, 'gateway B sees the key');
    // One request each so far (the polls). Two more, alternating:
    const third = await chat(a, key);
    const fourth = await chat(b, key);
    expect([third.status, fourth.status]).toEqual([200, 200]);
    expect(fourth.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const fifthA = await chat(a, key);
    const fifthB = await chat(b, key);
    expect([fifthA.status, fifthB.status]).toEqual([429, 429]);
    expect(Number(await inspect.get(`sgtest:requests:key:${await idOf('shared-app')}`))).toBeGreaterThanOrEqual(4);
  });

  test('Redis killed: each gateway falls back to its in-memory insurance limiter, which still enforces the limit', async () => {
    const key = await addKey(file, 'outage-app', ['--rpm', '3']);
    await eventually(async () => (await chat(a, key)).status === 200, 'gateway A sees the key');
    await eventually(async () => (await chat(b, key)).status === 200, 'gateway B sees the key');
    await redis.kill();
    // The insurance limiter starts its own count in each process: A serves 3, then refuses.
    const during = [];
    for (let i = 0; i < 4; i++) during.push((await chat(a, key)).status);
    expect(during).toEqual([200, 200, 200, 429]);
    expect((await chat(b, key)).status).toBe(200); // B's memory is its own
    expect(a.recorder.records.every((r) => r.status === 200)).toBe(true);
  });

  test('Redis back: the gateways reconnect and share limits again', async () => {
    await redis.restart();
    await inspect.connect().catch(() => undefined);
    const key = await addKey(file, 'after-app', ['--rpm', '4']);
    const id = await idOf('after-app');
    // Recovered once a request from each gateway lands in Redis (ioredis reconnects in the background).
    await eventually(async () => {
      await chat(a, key);
      return Number(await inspect.get(`sgtest:requests:key:${id}`)) >= 1;
    }, 'gateway A counts in Redis again');
    const before = Number(await inspect.get(`sgtest:requests:key:${id}`));
    await eventually(async () => {
      await chat(b, key);
      return Number(await inspect.get(`sgtest:requests:key:${id}`)) > before;
    }, 'gateway B counts in Redis again');
    // From here one shared count: whatever the polls used, the limit of 4 is reached across both.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(i % 2 ? b : a, key)).status);
    expect(statuses).toContain(429);
    expect(Number(await inspect.get(`sgtest:requests:key:${id}`))).toBeGreaterThanOrEqual(5);
  });

  test('both gateways serve normally afterwards', async () => {
    const key = await addKey(file, 'normal-app');
    await eventually(async () => (await chat(a, key)).status === 200 && (await chat(b, key)).status === 200, 'served');
  });
});

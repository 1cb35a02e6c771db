import http from 'node:http';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway } from '../../../gateway/server';
import { MemoryRecorder } from '../../support/gatewayHarness';
import { defaultPolicyWithFixtureModels } from '../../bypass/support';

/** One request on `agent`'s single keep-alive socket: status, headers and body. */
function get(agent: http.Agent, url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

/** A streamed chat request on `agent`'s keep-alive socket, read to its end: its status. */
function streamedStory(agent: http.Agent, gatewayUrl: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = http.request(`${gatewayUrl}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'a story please' }] }));
  });
}

/**
 * While the gateway drains (SIGTERM), a client that reuses a keep-alive connection opened before
 * it started still gets answers, each with `connection: close`; /readyz says not ready so the
 * load balancer takes the replica out; nothing throws out of the HTTP parser (a route answering
 * at once used to meet a late setHeader and take the process down).
 */
describe('draining with a reused keep-alive connection', () => {
  let engine: DevEngine;
  beforeAll(async () => {
    engine = await startDevEngine({ tokenDelayMs: 20 });
  });
  afterAll(() => engine.close());

  test('/healthz and /readyz answer on the old socket: connection close, readyz 503 draining', async () => {
    const config = GatewayConfig.parse({ port: 0, policy: defaultPolicyWithFixtureModels(), engine: { url: engine.baseUrl } });
    const gateway = await startGateway({ config, recorder: new MemoryRecorder() });
    // Two clients, each with a request in flight when shutdown starts (a busy socket is not closed as idle).
    const agents = [new http.Agent({ keepAlive: true, maxSockets: 1 }), new http.Agent({ keepAlive: true, maxSockets: 1 })];
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await fetch(`${engine.baseUrl.replace(/\/v1$/, '')}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'slow words '.repeat(30), times: 2 }) });
      const inFlight = agents.map((agent) => streamedStory(agent, gateway.url));
      await new Promise((r) => setTimeout(r, 100));
      const stopping = gateway.shutdown(5000);
      expect(await Promise.all(inFlight)).toEqual([200, 200]);
      const healthz = await get(agents[0]!, `${gateway.url}/healthz`);
      expect(healthz.status).toBe(200);
      expect(healthz.headers.connection).toBe('close');
      const readyz = await get(agents[1]!, `${gateway.url}/readyz`);
      expect(readyz.status).toBe(503);
      expect(JSON.parse(readyz.body)).toMatchObject({ status: 'not_ready', problems: { draining: expect.stringMatching(/shutting down/) } });
      await stopping;
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const agent of agents) agent.destroy();
    }
  });

  test('a connection whose answer ends during the drain closes within seconds, not after the 65 s keep-alive: shutdown does not wait out its grace period', async () => {
    const config = GatewayConfig.parse({ port: 0, policy: defaultPolicyWithFixtureModels(), engine: { url: engine.baseUrl } });
    const gateway = await startGateway({ config, recorder: new MemoryRecorder() });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await fetch(`${engine.baseUrl.replace(/\/v1$/, '')}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'slow words '.repeat(20) }) });
      const answered = streamedStory(agent, gateway.url);
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      const stopping = gateway.shutdown(30_000);
      expect(await answered).toBe(200);
      await stopping;
      // The idle connection closed about 2 s after its answer; the grace period was 30 s.
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      agent.destroy();
    }
  }, 40_000);

  test("a streamed answer honours the client's Connection: close (the stream's headers used to say keep-alive and hold the socket)", async () => {
    const config = GatewayConfig.parse({ port: 0, policy: defaultPolicyWithFixtureModels(), engine: { url: engine.baseUrl } });
    const gateway = await startGateway({ config, recorder: new MemoryRecorder() });
    try {
      const { connection, closedByServer } = await new Promise<{ connection: string | undefined; closedByServer: boolean }>((resolve, reject) => {
        const req = http.request(`${gateway.url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } }, (res) => {
          let ended = false;
          res.resume();
          res.on('end', () => (ended = true));
          // The server ends the connection once the answer is done: the socket closes with no client action.
          res.socket.once('close', () => resolve({ connection: res.headers.connection, closedByServer: ended }));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'hello' }] }));
      });
      expect(connection).toBe('close');
      expect(closedByServer).toBe(true);
    } finally {
      await gateway.shutdown(1000);
    }
  });
});

import http from 'node:http';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway, type RunningGateway } from '../../../gateway/server';
import { MemoryRecorder } from '../../support/gatewayHarness';
import { defaultPolicyWithFixtureModels } from '../../bypass/support';

/** A GET on `agent`'s one keep-alive socket: the status, and whether the socket was one used before. */
function get(agent: http.Agent, url: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

/**
 * A load balancer keeps idle upstream connections for a while (nginx and ingress-nginx: 60 s) and
 * sends the next request on one without asking. Node closes an idle connection after 5 s by
 * default; a gateway that did would race the proxy's request on that socket, and the proxy
 * answers the client 502. The gateway holds idle connections 65 s (limits.keep_alive_timeout_ms).
 */
describe('idle keep-alive connections', () => {
  let engine: DevEngine;
  let gateway: RunningGateway;
  beforeAll(async () => {
    engine = await startDevEngine();
    const config = GatewayConfig.parse({ port: 0, policy: defaultPolicyWithFixtureModels(), engine: { url: engine.baseUrl } });
    gateway = await startGateway({ config, recorder: new MemoryRecorder() });
  });
  afterAll(async () => {
    await gateway.shutdown(1000);
    await engine.close();
  });

  test('are held past node\'s 5 s: a request after 6.5 s idle goes on the same socket (node closes at about 6 s)', async () => {
    expect(GatewayConfig.parse({ policy: 'p.yaml', engine: { url: 'http://e/v1' } }).limits.keep_alive_timeout_ms).toBe(65_000);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await get(agent, `${gateway.url}/healthz`)).toEqual({ status: 200, reused: false });
      await new Promise((r) => setTimeout(r, 6_500));
      expect(await get(agent, `${gateway.url}/healthz`)).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 15_000);
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from '../../support/gatewayHarness';
import { defaultPolicyWithFixtureModels, windowMode } from '../../bypass/support';

/**
 * An engine that sends a long run of SSE keep-alive comments before its first text: in `window`
 * mode they were held one by one (and released with Array.shift(), quadratic: 0.5 MiB took 21 s
 * of CPU) and relayed one by one; a run is now held as one comment.
 */
const COMMENTS = 40_000;

async function commentEngine(): Promise<{ url: string; close: () => Promise<void> }> {
  const chunk = (o: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'dev', ...o })}\n\n`;
  const server = http.createServer(async (req, res) => {
    req.resume();
    if (!req.url?.endsWith('/chat/completions')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"object":"list","data":[{"id":"dev","object":"model"}]}');
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }] }));
    const block = ':\n\n'.repeat(1000);
    for (let sent = 0; sent < COMMENTS; sent += 1000) if (!res.write(block)) await new Promise((r) => res.once('drain', r));
    res.write(chunk({ choices: [{ index: 0, delta: { content: ' there' }, finish_reason: null }] }));
    res.write(chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('keep-alive comments held in window mode', () => {
  let h: Harness;
  let engine: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    engine = await commentEngine();
    h = await startHarness({ policy: defaultPolicyWithFixtureModels(windowMode(64)), engineUrl: engine.url });
  });
  afterAll(async () => {
    await h.close();
    await engine.close();
  });

  test('the answer arrives whole, and a run of comments reaches the client as one', async () => {
    const res = await fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'go' }] }) });
    const text = await res.text();
    expect(res.status).toBe(200);
    const deltas = [...text.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join('');
    expect(deltas).toBe('Hello there');
    expect((text.match(/^:$/gm) ?? []).length).toBeLessThanOrEqual(2);
  });
});

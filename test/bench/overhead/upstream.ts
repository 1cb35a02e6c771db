import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The minimal upstream of `npm run bench`: an OpenAI-compatible server that reads each request
 * whole and answers one small, fixed chat completion. It does as little as a server can, so what
 * the bench measures is the proxies in front of it. Run as its own process: prints its base URL.
 */
const ANSWER = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'llama-3.1-405b',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A short, friendly answer from the bench upstream.' }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 40, completion_tokens: 10, total_tokens: 50 },
});
const MODELS = JSON.stringify({ object: 'list', data: [{ id: 'llama-3.1-405b', object: 'model', created: 1_700_000_000, owned_by: 'bench' }] });

export function startUpstream(port = 0): Promise<string> {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      const body = req.method === 'GET' ? MODELS : ANSWER;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`)));
}

if (require.main === module) void startUpstream().then((url) => process.stdout.write(`listening ${url}\n`));

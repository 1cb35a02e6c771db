/**
 * Real loopback HTTP servers that answer like an OpenAI-compatible server serving Llama Guard 3:
 * vLLM (`meta-llama/Llama-Guard-3-8B`: answers start with `\n\n`, errors are
 * `{"object":"error",...}`) and Ollama (`llama-guard3:8b`: bare answers, errors are
 * `{"error":"..."}`). Tests script each answer, inject faults, and read back what was sent.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Flavor = 'vllm' | 'ollama';

export type FakeBehavior =
  /** A completion whose text is `text`. With logprobs, the decision token puts `pUnsafe` on `unsafe`. */
  | { kind: 'answer'; text: string; pUnsafe?: number; logprobs?: boolean; delayMs?: number }
  /** An error in the flavor's own body shape. */
  | { kind: 'error'; status: number; message: string; delayMs?: number }
  /** Any status and body, verbatim. */
  | { kind: 'raw'; status: number; body: string; contentType?: string }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /** Closes the connection without an answer. */
  | { kind: 'drop' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeGuardServer {
  flavor: Flavor;
  /** Including `/v1`. */
  baseUrl: string;
  model: string;
  requests: RecordedRequest[];
  /** Sets the behavior of the next requests (a function decides per request). */
  behave(behavior: FakeBehavior | ((req: RecordedRequest) => FakeBehavior)): void;
  /** What `GET /v1/models` (a replica's health check) answers: 200 with the model, or 503. */
  setHealthy(healthy: boolean): void;
  close(): Promise<void>;
}

export interface FakeServerOptions {
  model?: string;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  apiKey?: string;
}

/** Llama-3-like pieces of a guard answer: `\n\n`, `unsafe`, `\n`, `S`, `1`, `,S`, `10`, ... */
export function fakeTokens(text: string): string[] {
  return text.match(/\n\n|\n|unsafe|safe|,?S|\d{1,3}|\s+|[^\s\d]/g) ?? [];
}

function errorBody(flavor: Flavor, status: number, message: string): Record<string, unknown> {
  if (flavor === 'ollama') return { error: message };
  const type = status === 404 ? 'NotFoundError' : status >= 500 ? 'InternalServerError' : 'BadRequestError';
  return { object: 'error', message, type, param: null, code: status };
}

/** The alternatives at one position: the chosen token first, then plausible runners-up. */
function topAt(token: string, isDecision: boolean, pUnsafe: number): Array<{ token: string; logprob: number }> {
  if (!isDecision) return [{ token, logprob: -0.001 }, { token: 'S', logprob: -8 }, { token: ' ', logprob: -9 }];
  return [
    { token: 'safe', logprob: Math.log(Math.max(1e-12, (1 - pUnsafe) * 0.98)) },
    { token: 'unsafe', logprob: Math.log(Math.max(1e-12, pUnsafe * 0.98)) },
    { token: 'Safe', logprob: Math.log(0.01) },
    { token: 'The', logprob: Math.log(0.005) },
    { token: '**', logprob: Math.log(0.001) },
  ].sort((a, b) => b.logprob - a.logprob);
}

function completionBody(flavor: Flavor, model: string, isChat: boolean, reqBody: Record<string, unknown>, b: Extract<FakeBehavior, { kind: 'answer' }>): Record<string, unknown> {
  const maxTokens = typeof reqBody.max_tokens === 'number' ? reqBody.max_tokens : 16;
  // vLLM returns the template's leading `\n\n`; Ollama's answers come back bare.
  const full = flavor === 'vllm' && !b.text.startsWith('\n\n') ? `\n\n${b.text}` : b.text;
  const all = fakeTokens(full);
  const tokens = all.slice(0, maxTokens);
  const text = tokens.join('');
  const finish = tokens.length < all.length ? 'length' : 'stop';
  const pUnsafe = b.pUnsafe ?? (/^\s*unsafe/.test(full) ? 0.95 : 0.03);
  const wantLogprobs = (b.logprobs ?? true) && (isChat ? reqBody.logprobs === true : typeof reqBody.logprobs === 'number');
  const decision = tokens.findIndex((t) => t.trim() !== '');
  const perToken = tokens.map((token, i) => {
    const top = topAt(token, i === decision, pUnsafe);
    const own = top.find((t) => t.token === token)?.logprob ?? -0.001;
    return { token, logprob: own, top };
  });
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: 400, completion_tokens: tokens.length, total_tokens: 400 + tokens.length };
  if (isChat) {
    const logprobs = wantLogprobs
      ? {
          content: perToken.map((p) => ({
            token: p.token,
            logprob: p.logprob,
            bytes: [...Buffer.from(p.token)],
            top_logprobs: p.top.slice(0, Number(reqBody.top_logprobs ?? 0)).map((t) => ({ ...t, bytes: [...Buffer.from(t.token)] })),
          })),
        }
      : null;
    return {
      id: `chatcmpl-${created}`,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, ...(flavor === 'vllm' ? { tool_calls: [] } : {}) }, logprobs, finish_reason: finish }],
      usage,
    };
  }
  const logprobs = wantLogprobs
    ? {
        tokens: perToken.map((p) => p.token),
        token_logprobs: perToken.map((p) => p.logprob),
        top_logprobs: perToken.map((p) => Object.fromEntries(p.top.slice(0, Number(reqBody.logprobs)).map((t) => [t.token, t.logprob]))),
        text_offset: perToken.map((_, i) => tokens.slice(0, i).join('').length),
      }
    : null;
  return { id: `cmpl-${created}`, object: 'text_completion', created, model, choices: [{ index: 0, text, logprobs, finish_reason: finish }], usage };
}

export async function startFakeGuardServer(flavor: Flavor, options: FakeServerOptions = {}): Promise<FakeGuardServer> {
  const model = options.model ?? (flavor === 'vllm' ? 'meta-llama/Llama-Guard-3-8B' : 'llama-guard3:8b');
  let decide: (req: RecordedRequest) => FakeBehavior = () => ({ kind: 'answer', text: 'safe' });
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let healthy = true;

  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return send(res, 400, errorBody(flavor, 400, 'invalid JSON body'));
      }
      const path = (req.url ?? '').split('?')[0]!;
      // Health checks are not recorded: tests count what the guard asked.
      if (req.method === 'GET' && path === '/v1/models') {
        return healthy ? send(res, 200, { object: 'list', data: [{ id: model, object: 'model' }] }) : send(res, 503, errorBody(flavor, 503, 'unhealthy'));
      }
      const recorded: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body };
      requests.push(recorded);
      if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        return send(res, 401, flavor === 'vllm' ? { error: 'Unauthorized' } : { error: 'unauthorized' });
      }
      const isChat = path === '/v1/chat/completions';
      if (req.method !== 'POST' || (!isChat && path !== '/v1/completions')) {
        return send(res, 404, flavor === 'vllm' ? { detail: 'Not Found' } : { error: '404 page not found' });
      }
      if (body.model !== model) {
        const message = flavor === 'vllm' ? `The model \`${String(body.model)}\` does not exist.` : `model "${String(body.model)}" not found, try pulling it first`;
        return send(res, 404, errorBody(flavor, 404, message));
      }
      const b = decide(recorded);
      // A server at work: the answer after `delayMs` (unref'd: a test's end never waits on it).
      const later = (answer: () => void, delayMs = 0) => (delayMs > 0 ? void setTimeout(answer, delayMs).unref() : answer());
      switch (b.kind) {
        case 'answer':
          return later(() => send(res, 200, completionBody(flavor, model, isChat, body, b)), b.delayMs);
        case 'error':
          return later(() => send(res, b.status, errorBody(flavor, b.status, b.message)), b.delayMs);
        case 'raw':
          res.writeHead(b.status, { 'content-type': b.contentType ?? 'application/json' });
          return res.end(b.body);
        case 'hang':
          return;
        case 'drop':
          return req.socket.destroy();
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    flavor,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model,
    requests,
    behave(behavior) {
      decide = typeof behavior === 'function' ? behavior : () => behavior;
    },
    setHealthy(h) {
      healthy = h;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

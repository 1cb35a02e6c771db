import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatPromptText, defaultAnswer, DEV_MODEL_ID, estimateTokens, lastUserText } from './answers';
import { lastUserInput, planResponse, responseEvents, responseObject, sseEvent } from './responses';
import { chunkAnswer, ScriptEntry, ScriptQueue, type ScriptEntry as Script } from './script';

export interface DevEngineOptions {
  port?: number;
  host?: string;
  /** Delay between streamed chunks. */
  tokenDelayMs?: number;
}

export interface DevEngineStats {
  requests: number;
  completed: number;
  /** Requests whose client went away before the answer finished. */
  aborted: number;
}

export interface DevEngine {
  url: string;
  /** OpenAI base URL (`<url>/v1`), what ENGINE_URL expects. */
  baseUrl: string;
  port: number;
  stats: DevEngineStats;
  /** Bodies of the most recent completion requests, newest last. */
  requests: unknown[];
  /** Raw bytes of the most recent streamed answers, newest last (to prove byte-identical relays). */
  streams: string[];
  script: ScriptQueue;
  close(): Promise<void>;
}

/**
 * A small OpenAI-compatible server that stands in for the 405B engine: deterministic answers,
 * usage, streaming, scripted answers (`POST /dev/script`) and faults for tests.
 */
export async function startDevEngine(options: DevEngineOptions = {}): Promise<DevEngine> {
  const script = new ScriptQueue();
  const stats: DevEngineStats = { requests: 0, completed: 0, aborted: 0 };
  const requests: unknown[] = [];
  const streams: string[] = [];
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      route(req, res, raw).catch(() => {
        if (!res.headersSent) sendJson(res, 500, errorBody('dev engine failure', 'server_error'));
        else res.destroy();
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dev');
    const p = url.pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && (p === '/v1/models' || p === '/models')) {
      return sendJson(res, 200, { object: 'list', data: [{ id: DEV_MODEL_ID, object: 'model', created: 1_700_000_000, owned_by: 'safety-gateway-dev' }] });
    }
    if (req.method === 'GET' && (p === '/health' || p === '/healthz')) return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'POST' && p === '/dev/script') {
      const parsed = ScriptEntry.safeParse(safeJson(raw));
      if (!parsed.success) return sendJson(res, 400, errorBody(`bad script: ${parsed.error.issues[0]?.message}`, 'invalid_request_error'));
      script.push(parsed.data);
      return sendJson(res, 200, { queued: script.size });
    }
    if (req.method === 'POST' && p === '/dev/reset') {
      script.clear();
      requests.length = 0;
      Object.assign(stats, { requests: 0, completed: 0, aborted: 0 });
      return sendJson(res, 200, { ok: true });
    }
    if (req.method === 'GET' && p === '/dev/stats') return sendJson(res, 200, stats);
    if (req.method === 'GET' && p === '/dev/requests') return sendJson(res, 200, requests);
    if (req.method === 'POST' && (p === '/v1/chat/completions' || p === '/v1/completions' || p === '/v1/responses')) {
      const body = safeJson(raw) as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object') return sendJson(res, 400, errorBody('body must be JSON', 'invalid_request_error'));
      stats.requests += 1;
      requests.push(body);
      if (requests.length > 100) requests.shift();
      return complete(req, res, body, p === '/v1/chat/completions' ? 'chat' : p === '/v1/responses' ? 'responses' : 'text');
    }
    return sendJson(res, 404, errorBody(`no route ${req.method} ${p}`, 'invalid_request_error'));
  }

  async function complete(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>, kind: 'chat' | 'text' | 'responses'): Promise<void> {
    const entry = script.next();
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        clientGone = true;
        stats.aborted += 1;
      }
    });
    // As vLLM does (a Starlette StreamingResponse): a stream's headers at once, then the wait (queue, prefill) before its first event.
    if (entry?.headers_first && body.stream === true) {
      startStream(res);
      res.flushHeaders();
    }
    if (entry?.hang) return; // never answer; the socket closes when the client gives up
    if (entry?.delay_ms) await sleep(entry.delay_ms);
    if (clientGone) return;
    if (entry?.status && entry.retry_after !== undefined) res.setHeader('retry-after', String(entry.retry_after));
    if (entry?.status) return sendJson(res, entry.status, errorBody(entry.error_message ?? `scripted failure ${entry.status}`, entry.status >= 500 ? 'server_error' : 'invalid_request_error', entry.error_code, entry.error_param));
    if (entry && 'raw_json' in entry && body.stream !== true) {
      stats.completed += 1;
      return sendJson(res, 200, entry.raw_json);
    }
    if ((entry?.raw_body !== undefined || entry?.raw_body_base64 !== undefined) && body.stream !== true) {
      stats.completed += 1;
      const bytes = entry.raw_body_base64 !== undefined ? Buffer.from(entry.raw_body_base64, 'base64') : Buffer.from(entry.raw_body!, 'utf8');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
      res.end(bytes);
      return;
    }
    if (entry?.raw_events && body.stream === true) {
      startStream(res);
      const sent = entry.raw_events.map((e) => `${e}\n\n`).join('');
      res.end(sent);
      streams.push(sent);
      if (streams.length > 20) streams.shift();
      stats.completed += 1;
      return;
    }
    if (kind === 'responses') return respond(res, body, entry, () => clientGone);

    const promptText = kind === 'chat' ? chatPromptText(body.messages) : String(body.prompt ?? '');
    const answer = entry?.reply ?? defaultAnswer(kind === 'chat' ? lastUserText(body.messages) : promptText);
    const model = typeof body.model === 'string' ? body.model : DEV_MODEL_ID;
    const promptTokens = estimateTokens(promptText);
    const completionTokens = estimateTokens(answer);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    // One opaque run after the prefix, as engines make ids (a hyphen-joined `dev-` and UUID read as words: gateway/pipeline/extract/bookkeeping.ts).
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-dev${randomUUID().replace(/-/g, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const toolCalls = entry?.tool_calls?.map((t, i) => ({ id: `call_${i}`, type: 'function' as const, function: { name: t.name, arguments: t.arguments } }));
    const finishReason = toolCalls?.length ? 'tool_calls' : 'stop';

    if (body.stream !== true) {
      const choice =
        kind === 'chat'
          ? { index: 0, message: { role: 'assistant', content: toolCalls?.length && !entry?.reply ? null : answer, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, logprobs: null, finish_reason: finishReason }
          : { index: 0, text: answer, logprobs: null, finish_reason: 'stop' };
      stats.completed += 1;
      return sendJson(res, 200, { id, object: kind === 'chat' ? 'chat.completion' : 'text_completion', created, model, choices: [choice], usage });
    }

    startStream(res);
    const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    let sent = '';
    const send = (payload: unknown) => {
      const text = `data: ${JSON.stringify(payload)}\n\n`;
      sent += text;
      return res.write(text);
    };
    const delay = entry?.token_delay_ms ?? tokenDelayMs;
    if (kind === 'chat') send({ id, object, created, model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
    const pieces = toolCalls?.length && !entry?.reply ? [] : chunkAnswer(answer);
    for (let i = 0; i < pieces.length; i++) {
      if (clientGone) return;
      if (entry?.drop_after_chunks !== undefined && i >= entry.drop_after_chunks) {
        // Let the chunks already written reach the client first: the drop happens mid-answer.
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      if (delay > 0) await sleep(delay);
      if (clientGone) return;
      send(kind === 'chat' ? { id, object, created, model, choices: [{ index: 0, delta: { content: pieces[i] }, logprobs: null, finish_reason: null }] } : { id, object, created, model, choices: [{ index: 0, text: pieces[i], logprobs: null, finish_reason: null }] });
    }
    if (toolCalls?.length) {
      toolCalls.forEach((call, index) => send({ id, object, created, model, choices: [{ index: 0, delta: { tool_calls: [{ index, ...call }] }, logprobs: null, finish_reason: null }] }));
    }
    send(kind === 'chat' ? { id, object, created, model, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }] } : { id, object, created, model, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }] });
    const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
    if (streamOptions?.include_usage) send({ id, object, created, model, choices: [], usage });
    res.end('data: [DONE]\n\n');
    streams.push(sent + 'data: [DONE]\n\n');
    if (streams.length > 20) streams.shift();
    stats.completed += 1;
  }

  /** POST /v1/responses: the same scripts as completions, in the Responses API's shapes (responses.ts). */
  async function respond(res: http.ServerResponse, body: Record<string, unknown>, entry: Script | undefined, gone: () => boolean): Promise<void> {
    const calls = entry?.tool_calls ?? [];
    const text = calls.length && entry?.reply === undefined ? undefined : (entry?.reply ?? defaultAnswer(lastUserInput(body)));
    const plan = planResponse(body, typeof body.model === 'string' ? body.model : DEV_MODEL_ID, text, calls);
    if (body.stream !== true) {
      stats.completed += 1;
      return sendJson(res, 200, responseObject(plan, 'completed'));
    }
    startStream(res);
    const delay = entry?.token_delay_ms ?? tokenDelayMs;
    let sent = '';
    let deltas = 0;
    const events = responseEvents(plan, text === undefined ? [] : chunkAnswer(text));
    for (let i = 0; i < events.length; i++) {
      if (gone()) return;
      if (events[i].type === 'response.output_text.delta') {
        if (entry?.drop_after_chunks !== undefined && deltas >= entry.drop_after_chunks) {
          // Let the events already written reach the client first: the drop happens mid-answer.
          await sleep(20);
          res.socket?.destroy();
          return;
        }
        deltas += 1;
        if (delay > 0) await sleep(delay);
        if (gone()) return;
      }
      const text = sseEvent(events[i], i);
      sent += text;
      res.write(text);
    }
    res.end();
    streams.push(sent);
    if (streams.length > 20) streams.shift();
    stats.completed += 1;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    port,
    stats,
    requests,
    streams,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function errorBody(message: string, type: string, code?: string, param?: string) {
  return { error: { message, type, param: param ?? null, code: code ?? null } };
}

function sendJson(res: http.ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** A stream's headers, sent now unless they already went (a `headers_first` script). */
function startStream(res: http.ServerResponse): void {
  if (res.headersSent) return;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

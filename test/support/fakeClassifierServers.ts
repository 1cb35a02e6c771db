/**
 * Real loopback HTTP servers that answer like a classification server serving Prompt Guard:
 * Hugging Face text-embeddings-inference (`POST /predict`, `GET /health`) and vLLM's
 * classification API (`POST /classify`, `GET /health`), with their documented request, answer
 * and error shapes (guards/promptGuard/teiApi.ts and vllmApi.ts cite them). They stand for the
 * outside service: the "model" flags the fixture markers wherever they are (`zzjailbreak`,
 * `zzinject`), like the tiny ONNX fixtures; a tokenizer stand-in counts characters, so a test can
 * make inputs over the 512-token window. Tests script faults and read back what was sent.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ClassifierFlavor = 'tei' | 'vllm';

export interface ClassifierRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The texts of a /predict or /classify call. */
  inputs: string[];
}

export type ClassifierFault =
  /** An error in the flavor's own shape. */
  | { kind: 'error'; status: number; message: string; errorType?: string }
  /** Any status and body, verbatim. */
  | { kind: 'raw'; status: number; body: string }
  | { kind: 'hang' }
  | { kind: 'drop' }
  /** Answers normally, after `ms`: a slow but working server. */
  | { kind: 'slow'; ms: number };

export interface FakeClassifierOptions {
  /** id2label in index order; default Prompt Guard 1's. */
  labels?: string[];
  /** Window of the model, [CLS]/[SEP] included; default 512. */
  maxTokens?: number;
  /** The tokenizer stand-in: characters per token; default 4. */
  charsPerToken?: number;
  /** TEI's --max-client-batch-size; default 32. */
  maxClientBatch?: number;
  apiKey?: string;
  model?: string;
}

export interface FakeClassifierServer {
  flavor: ClassifierFlavor;
  url: string;
  model: string;
  requests: ClassifierRequest[];
  /** Answers the next classification requests with this fault (a function decides per request; undefined: answer normally). */
  fail(fault: ClassifierFault | undefined | ((req: ClassifierRequest) => ClassifierFault | undefined)): void;
  /** What GET /health answers. */
  setHealthy(healthy: boolean): void;
  /** The logits the "model" gives a text, in label order. */
  logits(text: string): number[];
  close(): Promise<void>;
}

export async function startFakeClassifier(flavor: ClassifierFlavor, options: FakeClassifierOptions = {}): Promise<FakeClassifierServer> {
  const labels = options.labels ?? ['BENIGN', 'INJECTION', 'JAILBREAK'];
  const maxTokens = options.maxTokens ?? 512;
  const charsPerToken = options.charsPerToken ?? 4;
  const maxClientBatch = options.maxClientBatch ?? 32;
  const model = options.model ?? 'meta-llama/Prompt-Guard-86M';
  const requests: ClassifierRequest[] = [];
  let fault: (req: ClassifierRequest) => ClassifierFault | undefined = () => undefined;
  let healthy = true;
  const sockets = new Set<Socket>();

  const logits = (text: string): number[] => {
    const jailbreak = text.includes('zzjailbreak');
    const inject = text.includes('zzinject');
    // A little variation with the text, never enough to cross a threshold (as in the ONNX fixtures).
    const noise = ((text.length * 7919) % 100) / 1000;
    if (labels.length === 2) {
      // The malicious class is the one not named BENIGN (index 1 in Meta's id2label).
      const bad = labels[1]!.toUpperCase() === 'BENIGN' ? 0 : 1;
      const z = [0, 0];
      z[bad] = jailbreak || inject ? 3 + noise : -2;
      z[1 - bad] = jailbreak || inject ? -2 : 3 + noise;
      return z;
    }
    return jailbreak ? [0, -5, 6 + noise] : inject ? [0, 6 + noise, -5] : [5 + noise, 0, 0];
  };
  const tokens = (text: string) => Math.ceil(text.length / charsPerToken) + 2;
  const softmax = (z: number[]) => {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };

  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const errorBody = (status: number, message: string, errorType?: string) =>
    flavor === 'tei' ? { error: message, error_type: errorType ?? (status === 413 ? 'Validation' : status === 503 ? 'Unhealthy' : status === 429 ? 'Overloaded' : 'Backend') } : { object: 'error', message, type: 'BadRequestError', param: null, code: status };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      if (req.method === 'GET' && path === '/health') {
        res.writeHead(healthy ? 200 : 503);
        return res.end();
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return send(res, 422, errorBody(422, 'Failed to parse the request body as JSON'));
      }
      const inputs = flavor === 'tei' ? teiInputs(body.inputs) : vllmInputs(body.input);
      const recorded: ClassifierRequest = { method: req.method ?? '', path, headers: req.headers, body, inputs: inputs ?? [] };
      const expected = flavor === 'tei' ? '/predict' : '/classify';
      if (req.method !== 'POST' || path !== expected) return send(res, 404, flavor === 'tei' ? { error: 'Not Found', error_type: 'Validation' } : { detail: 'Not Found' });
      requests.push(recorded);
      if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) return send(res, 401, { error: 'Unauthorized' });
      const f = fault(recorded);
      if (f?.kind === 'slow') {
        setTimeout(answer, f.ms);
        return;
      }
      if (f) {
        switch (f.kind) {
          case 'error':
            return send(res, f.status, errorBody(f.status, f.message, f.errorType));
          case 'raw':
            res.writeHead(f.status, { 'content-type': 'application/json' });
            return res.end(f.body);
          case 'hang':
            return;
          case 'drop':
            return req.socket.destroy();
        }
      }
      answer();

      function answer(): void {
      if (!inputs) return send(res, 422, errorBody(422, 'inputs must be a string, a pair or a batch of [string] lists'));
      if (flavor === 'tei') {
        if (inputs.length > maxClientBatch) return send(res, 413, errorBody(413, `batch size ${inputs.length} > maximum allowed batch size ${maxClientBatch}`));
        for (const t of inputs) if (tokens(t) > maxTokens) return send(res, 413, errorBody(413, `Input validation error: \`inputs\` must have less than ${maxTokens} tokens. Given: ${tokens(t)}`));
        // TEI lists every label, highest first; raw_scores: true gives logits, else probabilities.
        const rows = inputs.map((t) => {
          const z = logits(t);
          const scores = body.raw_scores === true ? z : softmax(z);
          return labels.map((label, i) => ({ label, score: scores[i]! })).sort((a, b) => b.score - a.score);
        });
        return send(res, 200, rows);
      }
      if (body.model !== model) return send(res, 404, errorBody(404, `The model \`${String(body.model)}\` does not exist.`));
      for (const t of inputs) {
        if (tokens(t) > maxTokens) return send(res, 400, errorBody(400, `This model's maximum context length is ${maxTokens} tokens. However, you requested ${tokens(t)} tokens in the input for classification.`));
      }
      const data = inputs.map((t, index) => {
        const probs = softmax(logits(t));
        const top = probs.indexOf(Math.max(...probs));
        return { index, label: labels[top], probs, num_classes: labels.length };
      });
      return send(res, 200, { id: 'classify-1', object: 'list', created: 0, model, data, usage: { prompt_tokens: 1, total_tokens: 1 } });
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
    url: `http://127.0.0.1:${port}`,
    model,
    requests,
    fail(f) {
      fault = typeof f === 'function' ? f : () => f;
    },
    setHealthy(h) {
      healthy = h;
    },
    logits,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** TEI's `inputs`: a string, a pair, or a batch of one- or two-string lists (pairs are refused here: Prompt Guard takes one text). */
function teiInputs(inputs: unknown): string[] | undefined {
  if (typeof inputs === 'string') return [inputs];
  if (!Array.isArray(inputs)) return undefined;
  if (inputs.every((i) => Array.isArray(i) && i.length === 1 && typeof i[0] === 'string')) return inputs.map((i) => (i as string[])[0]!);
  return undefined;
}

function vllmInputs(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((i) => typeof i === 'string')) return input as string[];
  return undefined;
}

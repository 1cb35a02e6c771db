import { Client } from 'undici';
import { chatBody } from './prompts';

/**
 * The bench's client, in its own process apart from every server: plain HTTP/1.1 keep-alive
 * connections (one undici Client each, no pipelining), POST /v1/chat/completions with a new prompt
 * per request, bodies read whole.
 */
export interface Sequential {
  /** Per-request latency in microseconds, in order. */
  micros: number[];
  /** Answered 400 content_policy_violation: a guard's verdict, not a fault. */
  blocked: number;
  errors: number;
}

export interface Throughput {
  connections: number;
  completed: number;
  blocked: number;
  errors: number;
  seconds: number;
}

/** A counter shared by every cell, so no two requests of a run carry the same prompt. */
let nextPrompt = 0;

type Outcome = 'ok' | 'blocked' | 'error';

async function post(client: Client): Promise<Outcome> {
  const res = await client.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: chatBody(nextPrompt++) });
  const body = await res.body.text();
  if (res.statusCode === 200) return 'ok';
  return res.statusCode === 400 && body.includes('"content_policy_violation"') ? 'blocked' : 'error';
}

/** One connection, one request at a time: latency with nothing queued anywhere. */
export async function sequential(origin: string, requests: number): Promise<Sequential> {
  const client = new Client(origin, { keepAliveTimeout: 60_000 });
  const micros: number[] = [];
  let blocked = 0;
  let errors = 0;
  try {
    for (let i = 0; i < requests; i++) {
      const t0 = process.hrtime.bigint();
      const outcome = await post(client);
      micros.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (outcome === 'blocked') blocked++;
      else if (outcome === 'error') errors++;
    }
  } finally {
    await client.close();
  }
  return { micros, blocked, errors };
}

/** `connections` clients sending back to back for `ms`: completed requests per second. */
export async function throughput(origin: string, connections: number, ms: number): Promise<Throughput> {
  const clients = Array.from({ length: connections }, () => new Client(origin, { keepAliveTimeout: 60_000 }));
  let completed = 0;
  let blocked = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + ms;
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < deadline) {
          const outcome = await post(client).catch((): Outcome => 'error');
          if (outcome === 'ok') completed++;
          else if (outcome === 'blocked') blocked++;
          else errors++;
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  return { connections, completed, blocked, errors, seconds: (performance.now() - started) / 1000 };
}

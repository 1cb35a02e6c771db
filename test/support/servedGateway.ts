import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import OpenAI from 'openai';
import { startDevEngine, type DevEngine } from '../../engine/devEngine/server';
import { startServeProcess } from './cliProcess';

/** `safety-gateway serve` as a process in front of a dev engine, with the openai client pointed at it. */
export interface ServedGateway {
  engine: DevEngine;
  gateway: { child: ChildProcess; url: string; stderr: () => string; auditDir: string };
  client: OpenAI;
  /** Queues the dev engine's next answer (engine/devEngine/script.ts). */
  script(body: Record<string, unknown>): Promise<Response>;
  /** Every decision record the gateway wrote so far. */
  decisions(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function serveWithDevEngine(args: string[] = []): Promise<ServedGateway> {
  const engine = await startDevEngine();
  const gateway = await startServeProcess(['--engine-url', engine.baseUrl, ...args]);
  return {
    engine,
    gateway,
    client: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 }),
    script: (body) => fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    decisions: () => decisionRecords(gateway.auditDir),
    async close() {
      gateway.child.kill('SIGTERM');
      await once(gateway.child, 'exit');
      await engine.close();
    },
  };
}

/** Every decision record in an audit directory, oldest first. */
export function decisionRecords(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) =>
      readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    )
    .filter((r) => r.kind === 'decision');
}

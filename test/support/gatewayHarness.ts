import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../engine/devEngine/server';
import { GatewayConfig } from '../../gateway/config';
import type { DecisionRecorder, RejectionRecord, RequestRecord } from '../../gateway/record/requestRecord';
import { startGateway, type RunningGateway } from '../../gateway/server';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');
export const FIXTURE_POLICY = path.join(FIXTURES, 'policies', 'fixture.yaml');

/** Records every decision in memory so tests can assert on what compliance would see. */
export class MemoryRecorder implements DecisionRecorder {
  readonly records: RequestRecord[] = [];
  /** 401s and 429s. */
  readonly rejections: RejectionRecord[] = [];
  async record(record: RequestRecord): Promise<void> {
    this.records.push(structuredClone(record));
  }
  async recordRejection(rejection: RejectionRecord): Promise<void> {
    this.rejections.push(structuredClone(rejection));
  }
}

export interface Harness {
  engine: DevEngine;
  gateway: RunningGateway;
  recorder: MemoryRecorder;
  /** Gateway OpenAI base URL (`<url>/v1`). */
  baseUrl: string;
  script(entry: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** A real dev engine and a real gateway on loopback ports, wired as `npm start` wires them. */
export async function startHarness(options: { policy?: string; config?: Record<string, unknown>; engineUrl?: string; tokenDelayMs?: number } = {}): Promise<Harness> {
  const engine = await startDevEngine({ tokenDelayMs: options.tokenDelayMs ?? 0 });
  const recorder = new MemoryRecorder();
  const config = GatewayConfig.parse({
    port: 0,
    policy: options.policy ?? FIXTURE_POLICY,
    ...options.config,
    engine: { url: options.engineUrl ?? engine.baseUrl, ...((options.config?.engine as object) ?? {}) },
  });
  const gateway = await startGateway({ config, recorder });
  return {
    engine,
    gateway,
    recorder,
    baseUrl: `${gateway.url}/v1`,
    async script(entry) {
      const res = await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry) });
      if (!res.ok) throw new Error(`script rejected: ${await res.text()}`);
    },
    async close() {
      await gateway.shutdown(1000);
      await engine.close();
    },
  };
}

/** Reads a whole SSE response into its `data:` payloads. */
export async function readSse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split(/\n\n/)
    .map((block) => block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'))
    .filter((d) => d.length > 0);
}

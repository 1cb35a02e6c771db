import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { AuditUnavailableError } from '../../../gateway/audit/auditErrors';
import { GatewayConfig } from '../../../gateway/config';
import type { DecisionRecorder, RequestRecord } from '../../../gateway/record/requestRecord';
import { startGateway, type RunningGateway } from '../../../gateway/server';
import { FIXTURES, readSse } from '../../support/gatewayHarness';

/**
 * The audit log cannot be written: the gateway fails closed. A guarded request gets an
 * OpenAI-shaped 503 `audit_unavailable` instead of its answer, and /readyz says why.
 */
const ANSWER = 'UNRECORDED-ANSWER the secret recipe';

function policyFile(streaming: 'buffer' | 'window' | 'off'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-policy-'));
  const file = path.join(dir, `${streaming}.yaml`);
  writeFileSync(
    file,
    [
      `id: fail-closed-${streaming}`,
      'guards:',
      '  prompt_guard: { type: prompt_guard, model: ' + path.join(FIXTURES, 'models', 'prompt-guard-v1-tiny') + ' }',
      '  llama_guard: { type: llama_guard, backend: encoder, model: ' + path.join(FIXTURES, 'models', 'content-guard-tiny') + ' }',
      'input:',
      '  - { id: jailbreak, guard: prompt_guard, sources: [user], threshold: 0.9 }',
      'output:',
      '  - { id: unsafe-answer, guard: llama_guard, threshold: 0.5 }',
      `streaming: { mode: ${streaming}, window_tokens: 8, overlap_tokens: 2 }`,
      '',
    ].join('\n'),
  );
  return file;
}

/** What a recorder whose audit log fails does (AuditRecorder rethrows the append error as this). */
class FailingRecorder implements DecisionRecorder {
  readonly attempts: RequestRecord[] = [];
  async record(record: RequestRecord): Promise<void> {
    this.attempts.push(structuredClone(record));
    throw new AuditUnavailableError('ENOSPC: no space left on device');
  }
}

async function chat(gateway: RunningGateway, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', ...body }) });
}

function expectAuditError(body: unknown): void {
  expect(body).toEqual({ error: { message: expect.stringContaining('audit log'), type: 'api_error', param: null, code: 'audit_unavailable' } });
}

describe('fail closed when the audit log cannot be written', () => {
  let engine: DevEngine;
  beforeAll(async () => {
    engine = await startDevEngine({ tokenDelayMs: 0 });
  });
  afterAll(async () => engine.close());
  const script = (reply: string) => fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply }) });

  test('an unwritable audit directory: 503 audit_unavailable for every guarded request, and /readyz says why', async () => {
    const blocker = path.join(mkdtempSync(path.join(tmpdir(), 'sg-audit-')), 'a-file');
    writeFileSync(blocker, 'not a directory');
    const lines: string[] = [];
    const config = GatewayConfig.parse({ port: 0, policy: policyFile('buffer'), engine: { url: engine.baseUrl }, audit: { dir: path.join(blocker, 'audit') }, telemetry: { enabled: false } });
    const gateway = await startGateway({ config, log: (l) => lines.push(l) });
    try {
      expect(lines.join('\n')).toMatch(/WARNING: audit: the audit log in .* cannot be written/);
      await script(ANSWER);
      const res = await chat(gateway, { messages: [{ role: 'user', content: 'hello' }] });
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(text).not.toContain('UNRECORDED-ANSWER');
      expectAuditError(JSON.parse(text));

      const blocked = await chat(gateway, { messages: [{ role: 'user', content: 'zzjailbreak' }] });
      expect(blocked.status).toBe(503);
      expectAuditError(await blocked.json());

      await script(ANSWER);
      const streamed = await chat(gateway, { stream: true, messages: [{ role: 'user', content: 'hello' }] });
      expect(streamed.status).toBe(503);
      expectAuditError(await streamed.json());

      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { status: string; problems: Record<string, string> };
      expect(body.status).toBe('not_ready');
      expect(body.problems.audit).toMatch(/cannot be written \((ENOTDIR|EEXIST)/);
    } finally {
      await gateway.shutdown(1000);
    }
  });

  test.each(['buffer', 'window', 'off'] as const)('streaming %s: the rest of the answer is not released, the stream ends with the audit error', async (mode) => {
    const recorder = new FailingRecorder();
    const config = GatewayConfig.parse({ port: 0, policy: policyFile(mode), engine: { url: engine.baseUrl } });
    const gateway = await startGateway({ config, recorder });
    try {
      await script(`${ANSWER} and more words to fill a window of tokens here`);
      const res = await chat(gateway, { stream: true, messages: [{ role: 'user', content: 'hello' }] });
      if (mode === 'buffer') {
        expect(res.status).toBe(503);
        expectAuditError(await res.json());
      } else {
        // window: the first window was checked and released before the end; off: nothing is checked.
        expect(res.status).toBe(200);
        const events = await readSse(res);
        // The stream's end is the error event (then [DONE], as for any mid-stream failure), not the engine's finish.
        expect(events[events.length - 1]).toBe('[DONE]');
        expectAuditError(JSON.parse(events[events.length - 2]) as unknown);
        // off streams the engine's chunks as they come (no output check by design): only the end can fail.
        if (mode === 'window') {
          expect(events.join('')).not.toContain('"finish_reason":"stop"');
          expect(events.join('')).not.toContain(' here');
        }
      }
      expect(recorder.attempts.length).toBeGreaterThan(0);

      await script(ANSWER);
      const whole = await chat(gateway, { messages: [{ role: 'user', content: 'hello' }] });
      expect(whole.status).toBe(503);
      const text = await whole.text();
      expect(text).not.toContain('UNRECORDED-ANSWER');
      expectAuditError(JSON.parse(text));
    } finally {
      await gateway.shutdown(1000);
    }
  });
});

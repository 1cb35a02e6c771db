import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog, type AuditFs } from '../../../gateway/audit/auditLog';
import { AuditRecorder } from '../../../gateway/audit/auditRecorder';
import { verifyChain } from '../../../gateway/audit/chainVerifier';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway, type RunningGateway } from '../../../gateway/server';
import { AuditUnavailableError } from '../../../gateway/audit/auditErrors';
import { FIXTURE_POLICY, MemoryRecorder, readSse } from '../../support/gatewayHarness';
import type { RequestRecord } from '../../../gateway/record/requestRecord';
import { defaultPolicyWithFixtureModels, offMode, windowMode } from '../../bypass/support';

/** node:fs/promises whose file writes fail with ENOSPC while `full` is set: a disk that fills up, then frees. */
function fillableDisk() {
  const state = { full: false };
  const enospc = () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
  const wrap = (handle: FileHandle): FileHandle =>
    new Proxy(handle, {
      get(target, prop) {
        if (prop === 'write' && state.full) return enospc;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  const fs: AuditFs = { ...fsp, open: (async (...args: Parameters<typeof fsp.open>) => wrap(await fsp.open(...args))) as typeof fsp.open };
  return { state, fs };
}

/** An audit log (fsync always) in a fresh directory, on a disk the test can fill. */
function logOnFillableDisk(prefix: string) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const disk = fillableDisk();
  const log = new AuditLog({ dir, fsync: 'always', fsyncIntervalMs: 1000, maxFileBytes: 1024 * 1024, maxFileAgeMs: 3_600_000, fs: disk.fs });
  return { dir, disk, log };
}

const chat = (g: RunningGateway, extra: Record<string, unknown> = {}) =>
  fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }], ...extra }) });

describe('audit log unwritable mid-run: fail closed, then recover', () => {
  const { dir, disk, log } = logOnFillableDisk('sg-audit-fault-');
  let engine: DevEngine;
  let h: RunningGateway;
  const answered: string[] = [];
  const script = (reply: string) => fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply }) });
  beforeAll(async () => {
    engine = await startDevEngine();
    // The gateway's real recorder, over a log whose disk the test can fill.
    const recorder = new AuditRecorder(log, undefined, 'test-salt');
    h = await startGateway({ config: GatewayConfig.parse({ port: 0, policy: FIXTURE_POLICY, engine: { url: engine.baseUrl } }), recorder });
  });
  afterAll(async () => {
    await h.shutdown(1000);
    await engine.close();
    await log.close();
  });

  const ok = async (res: Response, stream: boolean) => {
    expect(res.status).toBe(200);
    answered.push(res.headers.get('x-request-id')!);
    if (stream) expect((await readSse(res)).pop()).toBe('[DONE]');
    else await res.json();
  };

  test('healthy disk: answered and audited', async () => {
    await ok(await chat(h), false);
    await ok(await chat(h, { stream: true }), true);
  });

  test('disk full: 503 audit_unavailable, nothing of the answer released', async () => {
    disk.state.full = true;
    await script('UNAUDITED answer text');
    const whole = await chat(h);
    expect(whole.status).toBe(503);
    // The engine already answered; a full disk does not clear in the SDKs' retry backoff.
    expect(whole.headers.get('x-should-retry')).toBe('false');
    const text = await whole.text();
    expect(JSON.parse(text).error.code).toBe('audit_unavailable');
    expect(text).not.toContain('UNAUDITED');
    await script('UNAUDITED answer text');
    const streamed = await chat(h, { stream: true });
    expect(streamed.status).toBe(503);
    expect(await streamed.text()).not.toContain('UNAUDITED');
  });

  test('disk full and the engine failing too: the client is told the record could not be written (503 audit_unavailable), not 502', async () => {
    await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 500 }) });
    const res = await chat(h);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('audit_unavailable');
  });

  test('disk freed: the gateway serves normally again', async () => {
    disk.state.full = false;
    await ok(await chat(h), false);
    await ok(await chat(h, { stream: true }), true);
  });

  test('the audit log holds exactly one intact, chained record per answered request', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
    const lines = files.flatMap((file) =>
      readFileSync(path.join(dir, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((text, i) => ({ file, line: i + 1, text })),
    );
    expect(verifyChain(lines).ok).toBe(true);
    expect(lines.map((l) => (JSON.parse(l.text) as { request_id: string }).request_id)).toEqual(answered);
  });
});

/** A dev engine and a gateway recording to a log on a disk the test can fill, started and stopped around one describe. */
function gatewayOnFillableDisk(prefix: string, edit: (yaml: string) => string, tokenDelayMs = 0) {
  const { disk, log } = logOnFillableDisk(prefix);
  const parts = {} as { engine: DevEngine; h: RunningGateway };
  beforeAll(async () => {
    parts.engine = await startDevEngine({ tokenDelayMs });
    parts.h = await startGateway({ config: GatewayConfig.parse({ port: 0, policy: defaultPolicyWithFixtureModels(edit), engine: { url: parts.engine.baseUrl } }), recorder: new AuditRecorder(log, undefined, 'test-salt') });
  });
  afterAll(async () => {
    await parts.h.shutdown(1000);
    await parts.engine.close();
    await log.close();
  });
  return { disk, parts };
}

describe('audit log unwritable when a streamed answer breaks after bytes went out (window mode)', () => {
  const { disk, parts } = gatewayOnFillableDisk('sg-audit-fault-stream-', windowMode(2), 30);

  test.each([
    ['chat', '/v1/chat/completions', { messages: [{ role: 'user', content: 'hello' }] }],
    ['Responses', '/v1/responses', { input: 'hello' }],
  ])('%s: the stream ends with audit_unavailable, not the engine error', async (_name, route, body) => {
    try {
      await fetch(`${parts.engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'one two three four five six seven eight nine ten', drop_after_chunks: 6 }) });
      const res = await fetch(`${parts.h.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, ...body }) });
      expect(res.status).toBe(200); // the first windows went out (the stream's start was recorded) before the engine broke off
      const reader = res.body!.getReader();
      const first = await reader.read();
      disk.state.full = true;
      let text = Buffer.from(first.value ?? []).toString('utf8');
      for (let next = await reader.read(); !next.done; next = await reader.read()) text += Buffer.from(next.value).toString('utf8');
      expect(text).toContain('audit_unavailable');
      expect(text).not.toContain('engine_error');
    } finally {
      disk.state.full = false;
    }
  });

  test('a full disk before the first byte: 503 audit_unavailable, nothing streamed (the stream\'s start is recorded first)', async () => {
    disk.state.full = true;
    try {
      const before = parts.engine.stats.requests;
      await fetch(`${parts.engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'one two three four five six' }) });
      const res = await fetch(`${parts.h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'hello' }] }) });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('audit_unavailable');
      expect(parts.engine.stats.requests).toBe(before + 1);
    } finally {
      disk.state.full = false;
    }
  });
});

describe('audit log unwritable before a stream starts (off mode: no output rules checked on streams)', () => {
  const { disk, parts } = gatewayOnFillableDisk('sg-audit-fault-off-', offMode);

  test.each([
    ['chat', '/v1/chat/completions', { messages: [{ role: 'user', content: 'hello' }] }],
    ['Responses', '/v1/responses', { input: 'hello' }],
  ])('%s: 503 audit_unavailable with its headers, never a 200 carrying an error event', async (_name, route, body) => {
    disk.state.full = true;
    try {
      const res = await fetch(`${parts.h.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, ...body }) });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('audit_unavailable');
    } finally {
      disk.state.full = false;
    }
  });
});

/** Refuses the next `failures` records as a full disk would, then keeps the rest. */
class FailingOnceRecorder extends MemoryRecorder {
  failures = 0;
  override async record(record: RequestRecord): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new AuditUnavailableError('test: the disk is full');
    }
    await super.record(record);
  }
}

describe.each([
  ['off', offMode],
  ['window', windowMode(2)],
])('a stream whose 200 record fails (%s mode): the 503 record holds the answer once', (_mode, edit) => {
  let engine: DevEngine;
  let h: RunningGateway;
  const recorder = new FailingOnceRecorder();
  beforeAll(async () => {
    engine = await startDevEngine();
    h = await startGateway({ config: GatewayConfig.parse({ port: 0, policy: defaultPolicyWithFixtureModels(edit), engine: { url: engine.baseUrl } }), recorder });
  });
  afterAll(async () => {
    await h.shutdown(1000);
    await engine.close();
  });

  test.each([
    ['chat', '/v1/chat/completions', { messages: [{ role: 'user', content: 'hello' }] }],
    ['Responses', '/v1/responses', { input: 'hello' }],
  ])('%s', async (_name, route, body) => {
    await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'Hello there friend' }) });
    recorder.failures = 1;
    const before = recorder.records.length;
    const res = await fetch(`${h.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, ...body }) });
    expect(await res.text()).toContain('audit_unavailable');
    for (let i = 0; i < 40 && recorder.records.length === before; i++) await new Promise((r) => setTimeout(r, 25));
    const record = recorder.records[before];
    expect(record).toMatchObject({ status: 503, error: { type: 'audit_unavailable' } });
    // One answer, once (Responses also names the item ids the client received).
    expect(record.content?.output).toHaveLength(1);
    expect(record.content?.output[0]).toMatch(/^Hello there friend/);
  });
});

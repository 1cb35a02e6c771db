import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { runCli, startServeProcess } from '../../support/cliProcess';
import { FIXTURE_POLICY, readSse } from '../../support/gatewayHarness';

describe('safety-gateway serve (the real binary)', () => {
  let engine: DevEngine;
  beforeAll(async () => {
    engine = await startDevEngine({ tokenDelayMs: 40 });
  });
  afterAll(async () => engine.close());

  test('SIGTERM stops accepting, lets an in-flight stream finish, then exits 0', async () => {
    const { child, url, stderr } = await startServeProcess(['--policy', FIXTURE_POLICY, '--engine-url', engine.baseUrl]);
    await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'one two three four five six seven eight nine ten' }) });
    const inFlight = fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'count' }] }) });
    await new Promise((r) => setTimeout(r, 150)); // the request is now with the engine
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(events[events.length - 1]).toBe('[DONE]');
    const text = events.slice(0, -1).map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('one two three four five six seven eight nine ten');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stderr()).toContain('SIGTERM: draining');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  test('a second signal during the drain does not cut it short: the stream finishes and the process exits 0', async () => {
    const { child, url, stderr } = await startServeProcess(['--policy', FIXTURE_POLICY, '--engine-url', engine.baseUrl]);
    await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'one two three four five six seven eight nine ten' }) });
    const inFlight = fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'count' }] }) });
    await new Promise((r) => setTimeout(r, 150));
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const events = await readSse(await inFlight);
    expect(events[events.length - 1]).toBe('[DONE]');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stderr()).toContain('SIGINT: already draining');
  });

  test('an engine that does not answer at start is named in the log (a mistyped ENGINE_URL); a reachable one is not', async () => {
    const down = await startServeProcess(['--policy', FIXTURE_POLICY, '--engine-url', 'http://127.0.0.1:1/v1']);
    const up = await startServeProcess(['--policy', FIXTURE_POLICY, '--engine-url', engine.baseUrl]);
    try {
      for (let i = 0; i < 60 && !/did not answer its health check/.test(down.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(down.stderr()).toMatch(/WARNING: the engine at http:\/\/127\.0\.0\.1:1\/v1 did not answer its health check .*503 engine_unavailable/);
      // The same look at a live engine says nothing (it is answered by then).
      await new Promise((r) => setTimeout(r, 500));
      expect(up.stderr()).not.toContain('did not answer its health check');
    } finally {
      for (const { child } of [down, up]) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    }
  });

  test('without ENGINE_URL it runs the dev engine and says so loudly', async () => {
    const { child, url, stderr } = await startServeProcess(['--policy', FIXTURE_POLICY], { ENGINE_URL: '' });
    try {
      expect(stderr()).toMatch(/DEV ENGINE.*NOT a language model/);
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hi there' }] }) });
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0].message.content).toContain('stand-in');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  test('invalid configuration is refused at start with what, where and how to fix', async () => {
    const port = await runCli(['serve', '--policy', FIXTURE_POLICY], { PORT: 'eighty' });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('PORT: "eighty" is not a number');
    const url = await runCli(['serve', '--policy', FIXTURE_POLICY, '--engine-url', 'http://127.0.0.1:8000']);
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/engine\.url.*ending in \/v1/);
    const policy = await runCli(['serve', '--policy', '/nonexistent/policy.yaml']);
    expect(policy.code).toBe(1);
    expect(policy.stderr).toContain('cannot read policy file');
    expect(policy.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  test('a port already in use: exits 1 at once, says why, and leaves nothing behind', async () => {
    const { child, url, auditDir } = await startServeProcess(['--policy', FIXTURE_POLICY, '--engine-url', engine.baseUrl]);
    try {
      const port = new URL(url).port;
      // Same port, without ENGINE_URL (so the dev engine, guards, audit and telemetry all start first).
      const second = await runCli(['serve', '--policy', FIXTURE_POLICY, '--port', port], { ENGINE_URL: '', SAFETY_AUDIT_DIR: `${auditDir}-second` }, 30_000);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/cannot start: .*EADDRINUSE/);
      expect(second.stderr).not.toMatch(/\n\s+at /);
      // Its audit directory was unlocked on the way out: a new gateway can take it.
      const third = await startServeProcess(['--policy', FIXTURE_POLICY, '--engine-url', engine.baseUrl], { SAFETY_AUDIT_DIR: `${auditDir}-second` });
      third.child.kill('SIGTERM');
      expect((await once(third.child, 'exit'))[0]).toBe(0);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  test('a telemetry setting that cannot work stops the start, names the OTEL variables, and leaves the audit directory unlocked', async () => {
    const auditDir = mkdtempSync(path.join(tmpdir(), 'sg-otel-bad-'));
    const run = await runCli(['serve', '--policy', FIXTURE_POLICY, '--engine-url', engine.baseUrl, '--port', '0'], { SAFETY_AUDIT_DIR: auditDir, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 30_000);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot start: telemetry \(OTEL_\* variables\)/);
    expect(existsSync(path.join(auditDir, '.lock'))).toBe(false);
  });

  test('unknown command prints usage', async () => {
    const run = await runCli(['frobnicate']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown command "frobnicate"');
    expect(run.stderr).toContain('dev-engine');
  });
});

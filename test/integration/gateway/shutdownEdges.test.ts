import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { BIN, runCli, startServeProcess } from '../../support/cliProcess';
import { FIXTURE_POLICY } from '../../support/gatewayHarness';

/** Every line of the audit directory's files, parsed. */
function auditRecords(dir: string): { kind: string; reason?: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as { kind: string; reason?: string });
}

/** A long benign document: the bundled guards scan it for seconds on two cores. */
function longPrompt(chars: number): string {
  const words = ['garden', 'river', 'morning', 'quiet', 'bread', 'window', 'table', 'music', 'friend', 'travel', 'paper', 'letter'];
  let text = '';
  for (let i = 0; text.length < chars; i++) text += words[(i * 7 + (i >> 3)) % words.length] + (i % 11 === 10 ? '. ' : ' ');
  return text;
}

describe('safety-gateway serve: shutdown when the usual exits are not there (the real binary)', () => {
  let engine: DevEngine;
  beforeAll(async () => {
    engine = await startDevEngine({ tokenDelayMs: 0 });
  });
  afterAll(async () => engine.close());

  test("with its log's reader gone (`serve | tee` after Ctrl-C), SIGTERM still drains: the stream ends, is recorded, the shutdown checkpoint written", async () => {
    const auditDir = mkdtempSync(path.join(tmpdir(), 'sg-epipe-'));
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--policy', FIXTURE_POLICY, '--engine-url', engine.baseUrl], { env: { ...process.env, SAFETY_AUDIT_DIR: auditDir }, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let log = '';
    const url = await new Promise<string>((resolve) =>
      child.stderr!.on('data', (d) => {
        log += d;
        const m = /safety-gateway listening on (http:\/\/\S+)/.exec(log);
        if (m) resolve(m[1]!);
      }),
    );
    child.stderr!.destroy();
    await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'The garden was quiet in the early morning. '.repeat(20), token_delay_ms: 20 }) });
    const stream = fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'Describe a garden' }] }) }).then(
      async (r) => ({ status: r.status, text: await r.text() }),
      (e: Error) => ({ status: 0, text: String(e) }),
    );
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    const answer = await stream;
    expect({ code, signal, status: answer.status, done: answer.text.includes('[DONE]') }).toEqual({ code: 0, signal: null, status: 200, done: true });
    const records = auditRecords(auditDir);
    expect(records.filter((r) => r.kind === 'decision')).toHaveLength(1);
    expect(existsSync(path.join(auditDir, '.lock'))).toBe(false);
  }, 60_000);

  test('a guard model run still going when the grace period ends: the shutdown checkpoint is written and the lock given back first, and the process never aborts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-grace-'));
    const keys = path.join(dir, 'keys');
    expect((await runCli(['audit', 'keygen', '--out', keys])).code).toBe(0);
    const auditDir = path.join(dir, 'audit');
    const config = path.join(dir, 'gateway.yaml');
    // One worker and batches of 256 segments: a run of several seconds that nothing can interrupt.
    writeFileSync(config, 'shutdown_grace_s: 4\nguards:\n  batch_size: 256\n  workers: 1\n');
    const gw = await startServeProcess(['--engine-url', engine.baseUrl, '--config', config], { SAFETY_AUDIT_DIR: auditDir, SAFETY_AUDIT_SIGNING_KEY_FILE: path.join(keys, 'audit-signing-key.pem') });
    const exited = once(gw.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const answer = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: longPrompt(450_000) }] }) }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 3000));
    gw.child.kill('SIGTERM');
    const [, signal] = await exited;
    await answer;
    expect(gw.stderr()).not.toMatch(/terminate called|Napi::Error/);
    // Ended by its own exit, or by SIGKILL when a model run was still inside onnxruntime: never SIGABRT.
    expect([null, 'SIGKILL']).toContain(signal);
    const records = auditRecords(auditDir);
    expect(records.at(-1)).toMatchObject({ kind: 'checkpoint', reason: 'shutdown' });
    expect(existsSync(path.join(auditDir, '.lock'))).toBe(false);
  }, 90_000);
});

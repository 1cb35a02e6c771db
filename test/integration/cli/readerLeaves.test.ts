import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../../gateway/audit/auditLog';
import { toRejectionEntry } from '../../../gateway/audit/rejectionEntry';
import { BIN } from '../../support/cliProcess';

/**
 * `safety-gateway audit query --format jsonl | head -1`: the reader closes the pipe after its first
 * line while the command still writes. The command stops quietly (no EPIPE stack trace) with its
 * own exit code.
 */
describe('a CLI reader that stops early', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-epipe-'));
    const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 1000, maxFileBytes: 64 * 1024 * 1024, maxFileAgeMs: 3600_000 });
    // Far more than a pipe holds (64 KiB), so writing goes on after the reader left.
    for (let i = 0; i < 4000; i++) {
      await log.append(toRejectionEntry({ kind: 'unauthenticated', requestId: `req_${i}`, receivedAt: new Date(Date.UTC(2026, 11, 2, 16, 0, i % 60)).toISOString(), method: 'POST', route: '/v1/chat/completions', status: 401, reason: 'invalid_key', client: '127.0.0.1' }));
    }
    await log.close();
  });

  test.each(['jsonl', 'csv'])('audit query --format %s: exit 0, no stack trace', async (format) => {
    const args = ['audit', 'query', '--format', format];
    const child = spawn(process.execPath, [BIN, ...args, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let first = '';
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString('utf8');
      child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(first.length).toBeGreaterThan(0);
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  });
});

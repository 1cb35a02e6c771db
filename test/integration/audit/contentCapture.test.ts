import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readEntries } from '../../../gateway/audit/auditQuery';
import { FIXTURE_POLICY } from '../../support/gatewayHarness';
import { startRealGateway } from '../telemetry/realGateway';

/** The policy's telemetry.content_capture decides what the audit log keeps of prompts and answers. */
function policyWithCapture(capture: 'none' | 'redacted' | 'full'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-capture-'));
  const file = path.join(dir, 'policy.yaml');
  const base = readFileSync(FIXTURE_POLICY, 'utf8').replace(/\.\.\/models\//g, `${path.join(path.dirname(FIXTURE_POLICY), '..', 'models')}/`);
  writeFileSync(file, `${base.replace(/^id: fixture$/m, `id: capture-${capture}`)}\ntelemetry:\n  content_capture: ${capture}\n`);
  return file;
}

describe.each(['none', 'redacted', 'full'] as const)('content_capture: %s', (capture) => {
  test('the audit record keeps what the policy allows', async () => {
    const gw = await startRealGateway({ policy: policyWithCapture(capture), config: { telemetry: { enabled: false } } });
    try {
      await gw.script({ reply: 'Write to ops@example.com or call +1 415 555 0132' });
      const res = await gw.chat({ messages: [{ role: 'user', content: 'my card is 4111 1111 1111 1111, my key sk-abcdefghijklmnopqrstuvwxyz' }] });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const [entry] = readEntries(gw.auditDir).entries;
      expect(entry.policy.id).toBe(`capture-${capture}`);
      expect(entry.content.capture).toBe(capture);
      const raw = readFileSync(path.join(gw.auditDir, readdirJsonl(gw.auditDir)), 'utf8');
      if (capture === 'full') {
        expect(entry.content.input).toEqual(['my card is 4111 1111 1111 1111, my key sk-abcdefghijklmnopqrstuvwxyz']);
        expect(entry.content.output).toEqual(['Write to ops@example.com or call +1 415 555 0132']);
      } else {
        for (const secret of ['4111 1111', 'sk-abcdef', 'ops@example.com', '415 555']) expect(raw).not.toContain(secret);
        if (capture === 'redacted') {
          expect(entry.content.input).toEqual(['my card is [CARD], my key [KEY]']);
          expect(entry.content.output).toEqual(['Write to [EMAIL] or call [PHONE]']);
        } else {
          expect(entry.content.input[0]).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
          expect(raw).not.toContain('my card');
        }
      }
    } finally {
      await gw.close();
    }
  });
});

function readdirJsonl(dir: string): string {
  return readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
}

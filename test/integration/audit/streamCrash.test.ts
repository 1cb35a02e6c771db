import { once } from 'node:events';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { auditLines } from '../../../gateway/audit/auditFiles';
import { readAllEntries } from '../../../gateway/audit/auditQuery';
import { verifyChain } from '../../../gateway/audit/chainVerifier';
import { runAudit } from '../../../gateway/cli/auditCommand';
import { startServeProcess } from '../../support/cliProcess';
import { defaultPolicyWithFixtureModels, windowMode } from '../../bypass/support';

/**
 * A streamed answer's decision record is written when the stream ends; before its first byte the
 * gateway records that the stream started, durably. A gateway killed mid-stream (no shutdown, no
 * drain) thus still leaves a trace of the request whose client had part of an answer, and
 * `audit stats` names it. Needs `npm run build` (the gateway runs as its own process).
 */
describe('a gateway killed mid-stream', () => {
  let engine: DevEngine;
  beforeAll(async () => {
    engine = await startDevEngine({ tokenDelayMs: 40 });
  });
  afterAll(() => engine.close());

  test('leaves the stream_started record of the request, and audit stats lists it as unfinished', async () => {
    const gateway = await startServeProcess(['--engine-url', engine.baseUrl, '--policy', defaultPolicyWithFixtureModels(windowMode(2))]);
    try {
      await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'slow words '.repeat(100) }) });
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] }),
      });
      expect(res.status).toBe(200);
      const requestId = res.headers.get('x-request-id')!;
      const reader = res.body!.getReader();
      // Checked text reached the client: the stream is under way.
      expect((await reader.read()).done).toBe(false);
      gateway.child.kill('SIGKILL');
      await once(gateway.child, 'exit');
      await reader.read().catch(() => undefined);

      const { entries, streamStarts } = readAllEntries(gateway.auditDir);
      expect(entries.filter((e) => e.request_id === requestId)).toEqual([]);
      expect(streamStarts).toEqual([expect.objectContaining({ kind: 'stream_started', request_id: requestId, route: '/v1/chat/completions', input_action: 'allow', policy: { id: expect.any(String), version: expect.any(String) } })]);
      expect(verifyChain(auditLines(gateway.auditDir)).ok).toBe(true);
      let out = '';
      expect(await runAudit(['stats', '--dir', gateway.auditDir], { out: (t) => void (out += t), err: () => undefined, env: {} })).toBe(0);
      expect(out).toMatch(/1 stream\(s\) started with no decision record after them/);
      expect(out).toContain(requestId);
    } finally {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
    }
  });
});

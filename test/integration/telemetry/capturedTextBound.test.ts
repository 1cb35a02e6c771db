import { readEntries } from '../../../gateway/audit/auditQuery';
import { EXPORTED_RECORD_CHARS, EXPORTED_TEXT_CHARS, exportedContent, exportedText } from '../../../gateway/telemetry/telemetryRecorder';
import { flushTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { fixturePolicyVariant } from '../../support/policyFiles';
import { exportingGateway } from './realGateway';

/**
 * content_capture full exports what was said in the decision log, each text bounded: a prompt near
 * the context limit made one OTLP batch bigger than a collector takes (every record in it dropped,
 * other apps' included) and, with the collector away, filled the export queue. The audit record
 * keeps every text whole.
 */
test('exportedText: whole up to the bound, then the bound and how much more the audit record holds; never half a surrogate pair', () => {
  expect(exportedText('short')).toBe('short');
  const long = 'x'.repeat(EXPORTED_TEXT_CHARS + 500);
  expect(exportedText(long)).toBe(`${'x'.repeat(EXPORTED_TEXT_CHARS)}[... 500 more characters in the audit record]`);
  const pair = `${'x'.repeat(EXPORTED_TEXT_CHARS - 1)}\u{1F600}tail`;
  expect(exportedText(pair)).toBe(`${'x'.repeat(EXPORTED_TEXT_CHARS - 1)}[... 6 more characters in the audit record]`);
});

test('exportedContent: a record exports at most EXPORTED_RECORD_CHARS of text per direction (a long chat resends every turn)', () => {
  const turns = Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(8_000, 'w'));
  const exported = exportedContent({ capture: 'full', input: turns, output: ['the answer'] });
  const input = exported['gen_ai.security.content.input'];
  expect(input.slice(0, 4)).toEqual(turns.slice(0, 4));
  expect(input[4]).toBe(`${turns[4].slice(0, EXPORTED_RECORD_CHARS - 4 * 8_000)}[... ${8_000 - (EXPORTED_RECORD_CHARS - 4 * 8_000)} more characters in the audit record]`);
  // Past the share: one line for the texts left, not a marker each (100,000 tiny texts exported more than they held).
  expect(input).toHaveLength(6);
  expect(input[5]).toBe('[... 45 more texts in the audit record]');
  const tiny = exportedContent({ capture: 'full', input: Array.from({ length: 100_000 }, () => 'x'), output: [] })['gen_ai.security.content.input'];
  expect(tiny.join('').length).toBeLessThan(EXPORTED_RECORD_CHARS + 100);
  // The answer has a share of its own.
  expect(exported['gen_ai.security.content.output']).toEqual(['the answer']);
  expect(input.join('').length).toBeLessThan(EXPORTED_RECORD_CHARS + 50 * 60);
});

describe('captured content in exported decision logs', () => {
  const exporting = exportingGateway({ policy: fixturePolicyVariant((y) => `${y}\ntelemetry:\n  content_capture: full\n`) });

  test('a 40,000-character prompt is exported bounded, and kept whole in the audit log', async () => {
    const receiver = exporting.receiver();
    const gw = exporting.gateway();
    const prompt = `${'ordinary words '.repeat(2_666)}end`;
    const res = await gw.chat({ messages: [{ role: 'user', content: prompt }] });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    const decision = () => receiver.logs.find((l) => l.eventName === 'safety.decision' && l.attributes['safety.request.id'] === id);
    for (let i = 0; i < 30 && !decision(); i++) {
      await flushTelemetry(2000);
      await new Promise((r) => setTimeout(r, 100));
    }
    const exported = (decision()!.attributes['gen_ai.security.content.input'] as string[])[0];
    expect(exported.length).toBeLessThan(EXPORTED_TEXT_CHARS + 100);
    expect(exported).toMatch(/^ordinary words .*\[\.\.\. \d+ more characters in the audit record\]$/s);
    const audited = readEntries(gw.auditDir).entries.find((e) => e.request_id === id) as unknown as { content: { input: string[] } };
    expect(audited.content.input).toContain(prompt);
  });
});

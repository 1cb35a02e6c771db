import { MAX_VERDICT_LOG_RECORDS, TelemetryRecorder } from '../../../gateway/telemetry/telemetryRecorder';
import { captureContent } from '../../../gateway/telemetry/contentCapture';
import { phase, requestRecord, rule, verdict } from '../../support/requestRecords';
import { memoryLogs } from './memoryLogs';

/** A request with more verdicts than the log takes one by one: its decision record is never crowded out. */
describe('verdict log records per request', () => {
  const exporter = memoryLogs();

  test('the decision first, then at most the bound of verdicts (the blocking ones kept), then one count of the rest', () => {
    // A stream checked window by window: one output phase per window; the last window blocked.
    const windows = 200;
    const outputs = Array.from({ length: windows }, (_, i) => ({
      ...phase('output', [[rule('unsafe-answer', 'llama_guard'), verdict('llama_guard', i === windows - 1 ? 0.97 : 0.01)]]),
      choice: 0,
    }));
    const record = requestRecord({ outputs, action: 'block' });
    new TelemetryRecorder('salt').emit(record, captureContent(record.content, 'none', 'salt'));
    const emitted = exporter.getFinishedLogRecords();
    expect(emitted[0].eventName).toBe('safety.decision');
    const verdicts = emitted.filter((r) => r.eventName === 'safety.guard.verdict');
    expect(verdicts).toHaveLength(MAX_VERDICT_LOG_RECORDS);
    // The blocking window's verdict is among them, though it came last.
    expect(verdicts.some((r) => r.attributes['gen_ai.security.action'] === 'block' || String(r.body).includes('-> block'))).toBe(true);
    const omitted = emitted.filter((r) => r.eventName === 'safety.guard.verdicts_omitted');
    expect(omitted).toHaveLength(1);
    // Two input verdicts plus 200 windows.
    expect(omitted[0].attributes['safety.verdicts.omitted']).toBe(2 + windows - MAX_VERDICT_LOG_RECORDS);
  });

  test('a block comes before flags when more flagged than the bound holds', () => {
    const windows = 200;
    const outputs = Array.from({ length: windows }, (_, i) => ({
      ...phase('output', [[rule('unsafe-answer', 'llama_guard', { action: i === windows - 1 ? 'block' : 'flag' }), verdict('llama_guard', 0.97)]]),
      choice: 0,
    }));
    const record = requestRecord({ outputs, action: 'block' });
    new TelemetryRecorder('salt').emit(record, captureContent(record.content, 'none', 'salt'));
    const bodies = exporter.getFinishedLogRecords().filter((r) => r.eventName === 'safety.guard.verdict').map((r) => String(r.body));
    expect(bodies).toHaveLength(MAX_VERDICT_LOG_RECORDS);
    expect(bodies.filter((b) => b.endsWith('-> block'))).toHaveLength(1);
  });

  test('an ordinary request logs every verdict and no count', () => {
    const record = requestRecord();
    new TelemetryRecorder('salt').emit(record, captureContent(record.content, 'none', 'salt'));
    const names = exporter.getFinishedLogRecords().map((r) => r.eventName);
    expect(names).toEqual(['safety.decision', 'safety.guard.verdict', 'safety.guard.verdict', 'safety.guard.verdict']);
  });
});

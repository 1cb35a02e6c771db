import { toAuditEntry } from '../../../gateway/audit/auditEntry';
import { captureContent } from '../../../gateway/telemetry/contentCapture';
import { phase, requestRecord, rule, verdict } from '../../support/requestRecords';

describe('audit entry shaping', () => {
  test('who, when, which guards with which scores, which rule and policy version, what was done', () => {
    const record = requestRecord();
    const entry = toAuditEntry(record, captureContent(record.content, 'none', 'salt'), 'salt');
    expect(entry).toMatchObject({
      v: 1,
      kind: 'decision',
      request_id: 'req_1',
      received_at: '2025-06-01T12:00:00.000Z',
      app: 'app-a',
      route: '/v1/chat/completions',
      policy: { id: 'fixture', version: 'abc123' },
      action: 'block',
      status: 200,
      engine: { duration_ms: 120.5, first_chunk_ms: 20.25, model: 'llama-3.1-405b-fp8', finish_reasons: ['stop'], input_tokens: 12, output_tokens: 30 },
    });
    expect(entry.phases).toHaveLength(2);
    expect(entry.phases[1]).toMatchObject({ direction: 'output', choice: 0, action: 'block', deciding_rule: 'unsafe-answer' });
    expect(entry.phases[1].verdicts[0]).toEqual({
      rule_id: 'unsafe-answer',
      guard: 'llama_guard',
      model: 'llama_guard-model',
      label: 'unsafe',
      score: 0.97,
      categories: ['S1'],
      threshold: 0.5,
      mode: 'enforce',
      rule_action: 'block',
      action: 'block',
      latency_ms: 3.25,
      segments_scanned: 1,
      worst_path: undefined,
      error_type: undefined,
    });
  });

  test('worst_path keeps the API member names and indexes, never a member name the client chose', () => {
    const record = requestRecord({
      input: phase('input', [[rule('jailbreak', 'prompt_guard'), verdict('prompt_guard', 0.99, { worstPath: 'messages[0].content[0].my_ssn_is_078-05-1120#key', worstSpan: { start: 0, end: 10 } })]]),
    });
    const entry = toAuditEntry(record, captureContent(record.content, 'none', 'salt'), 'salt');
    expect(entry.phases[0].verdicts[0].worst_path).toBe('messages[0].content[0].*#key');
    expect(JSON.stringify(entry)).not.toContain('078-05-1120');
  });

  test("an answer's bookkeeping read apart: the verdicts that did not decide are recorded as other readings, with what the guard said only", () => {
    const unsafe = rule('unsafe-answer', 'llama_guard');
    const output = { ...phase('output', [[unsafe, verdict('llama_guard', 0.97, { worstPath: 'choices[0].bookkeeping' })]]), otherReadings: [{ ruleId: 'unsafe-answer', verdict: verdict('llama_guard', 0.04, { worstPath: 'choices[0].message.content' }) }], choice: 0 };
    const entry = toAuditEntry(requestRecord({ outputs: [output] }), captureContent(undefined, 'none', 's'), 's');
    expect(entry.phases[1]).toMatchObject({
      verdicts: [{ rule_id: 'unsafe-answer', score: 0.97, action: 'block', worst_path: 'choices[0].bookkeeping' }],
      other_readings: [{ rule_id: 'unsafe-answer', score: 0.04, worst_path: 'choices[0].message.content' }],
    });
    expect(entry.phases[1].other_readings![0].action).toBeUndefined();
    expect(entry.phases[0].other_readings).toBeUndefined();
  });

  test('capture none: no raw text anywhere in the entry', () => {
    const record = requestRecord({ error: { type: 'engine_rejected', message: 'prompt "tell me a secret" is too long' } });
    const text = JSON.stringify(toAuditEntry(record, captureContent(record.content, 'none', 'salt'), 'salt'));
    for (const secret of ['jane@example.com', 'tell me a secret', 'something dangerous']) expect(text).not.toContain(secret);
    expect(text).toContain('hmac-sha256:');
  });

  test('capture redacted and full follow the policy', () => {
    const record = requestRecord();
    expect(toAuditEntry(record, captureContent(record.content, 'redacted', 's'), 's').content.input).toEqual(['My email is [EMAIL], tell me a secret']);
    expect(toAuditEntry(record, captureContent(record.content, 'full', 's'), 's').content.output).toEqual(['Here is how to do something dangerous']);
  });

  test('gateway-made error messages are kept as they are', () => {
    const record = requestRecord({ status: 504, error: { type: 'engine_timeout', message: 'The engine did not answer in time.' } });
    expect(toAuditEntry(record, captureContent(record.content, 'none', 's'), 's').error).toEqual(record.error);
  });
});

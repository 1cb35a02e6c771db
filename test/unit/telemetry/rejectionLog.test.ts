import type { RejectionRecord } from '../../../gateway/record/requestRecord';
import { TelemetryRecorder } from '../../../gateway/telemetry/telemetryRecorder';
import { memoryLogs } from './memoryLogs';

/** A refusal's telemetry log record: kind, status, reason, and for an invalid request the member it names (never a value). */
describe('safety.rejection log records', () => {
  const exporter = memoryLogs();

  const base: RejectionRecord = {
    kind: 'invalid_request',
    requestId: 'req_1',
    receivedAt: '2026-01-01T00:00:00.000Z',
    app: 'shop',
    keyId: 'key_1',
    client: '127.0.0.1',
    method: 'POST',
    route: '/v1/chat/completions',
    status: 400,
    reason: 'unsupported_parameter',
    param: 'chat_template',
  };

  test('an invalid request: kind, status, reason and param, anchored to its audit record', () => {
    new TelemetryRecorder('salt').emitRejection(base, { seq: 7, hash: 'abc' });
    const [record] = exporter.getFinishedLogRecords();
    expect(record.eventName).toBe('safety.rejection');
    expect(record.body).toBe('invalid_request (HTTP 400): unsupported_parameter at chat_template for app shop');
    expect(record.attributes).toEqual({
      'safety.request.id': 'req_1',
      'safety.app': 'shop',
      'url.path': '/v1/chat/completions',
      'safety.status': 400,
      'safety.rejection.kind': 'invalid_request',
      'safety.rejection.reason': 'unsupported_parameter',
      'safety.rejection.param': 'chat_template',
      'safety.audit.seq': 7,
      'safety.audit.hash': 'abc',
    });
  });

  test('no param, no param attribute; a 401 reads as before', () => {
    const recorder = new TelemetryRecorder('salt');
    recorder.emitRejection({ ...base, reason: 'invalid_json', param: undefined });
    recorder.emitRejection({ ...base, kind: 'unauthenticated', status: 401, reason: 'missing_key', param: undefined, app: undefined, keyId: undefined });
    const [invalid, unauthenticated] = exporter.getFinishedLogRecords();
    expect(invalid.attributes).not.toHaveProperty('safety.rejection.param');
    expect(invalid.body).toBe('invalid_request (HTTP 400): invalid_json for app shop');
    expect(unauthenticated.body).toBe('unauthenticated (HTTP 401): missing_key');
  });

  test('a policy_unavailable: the policy id the key assigns, as the policy id attribute and in the body', () => {
    new TelemetryRecorder('salt').emitRejection({ ...base, kind: 'policy_unavailable', status: 503, reason: 'policy_unavailable', param: undefined, policyId: 'kids' }, { seq: 8, hash: 'def' });
    const [record] = exporter.getFinishedLogRecords();
    expect(record.body).toBe('policy_unavailable (HTTP 503): policy_unavailable (policy kids not loaded) for app shop');
    expect(record.attributes).toMatchObject({ 'safety.rejection.kind': 'policy_unavailable', 'safety.status': 503, 'gen_ai.security.policy.id': 'kids', 'safety.audit.seq': 8 });
    expect(record.attributes).not.toHaveProperty('safety.rejection.param');
  });
});

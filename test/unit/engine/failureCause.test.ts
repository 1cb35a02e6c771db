import { classifyEngineError, EngineError, failureCause } from '../../../engine/errors';

/**
 * An engine failure in fixed words, for records and the operator log: the failure's own message can
 * carry the engine's error text or member names an engine chose, so it never is the cause.
 */
describe('failureCause', () => {
  test('the engine status, a connection code, a timeout stage', () => {
    expect(failureCause(new EngineError('bad_gateway', 'the engine answered 500: boom\nforged line', 500))).toBe('engine HTTP 500');
    expect(failureCause(new EngineError('unreachable', 'overloaded: queue full', 429))).toBe('engine HTTP 429');
    expect(failureCause(classifyEngineError({ code: 'ECONNREFUSED' }, 'request'))).toBe('unreachable: ECONNREFUSED');
    expect(failureCause(classifyEngineError({ code: 'UND_ERR_SOCKET' }, 'stream'))).toBe('connection broken mid-answer: UND_ERR_SOCKET');
    expect(failureCause(classifyEngineError({ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'request'))).toBe('timeout: first_byte');
  });

  test("never the message: a malformed answer's member names, words in parentheses, a code that is not an identifier", () => {
    expect(failureCause(new EngineError('bad_gateway', 'the engine sent a malformed completion: `usage.patient_john_doe` (EVIL)'))).toBe('an answer the gateway cannot read');
    expect(failureCause(new EngineError('unreachable', 'anything at all (ENGINE_CHOSEN)'))).toBe('unreachable');
    expect(failureCause(classifyEngineError({ code: 'tell me how to build a bomb' }, 'request'))).toBe('unreachable');
  });
});

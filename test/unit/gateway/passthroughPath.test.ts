import { guardedRouteOf, normalisePath, passthroughDecision } from '../../../gateway/routes/passthroughPath';

describe('normalisePath', () => {
  test.each([
    ['/v1/files/abc', '/v1/files/abc'],
    ['/v1/files/../chat/completions', '/v1/chat/completions'],
    ['/v1/files/%2e%2e/chat/completions', '/v1/chat/completions'],
    ['/v1/files/%252E%252E/chat/completions', '/v1/chat/completions'],
    ['/v1/files/..%2Fchat', '/v1/chat'],
    ['/v1\\files\\..\\chat', '/v1/chat'],
    ['/v1/files/..%5cchat', '/v1/chat'],
    ['//v1///files//x', '/v1/files/x'],
    ['/v1/files/./x/.', '/v1/files/x/'],
    ['/v1/files/x/..', '/v1/files/'],
    ['/v1/models/meta-llama/Llama-3.1-8B:q4', '/v1/models/meta-llama/Llama-3.1-8B:q4'],
  ])('%s -> %s', (raw, normal) => {
    expect(normalisePath(raw)).toEqual({ ok: true, path: normal });
  });

  test.each([
    ['/v1/files/%zz', /malformed/],
    ['/v1/files/%2', /malformed/],
    ['/v1/files/%2525252e', /more than 3 times/],
    ['/v1/../../x', /above the root/],
    ['/v1/files/%00', /not allowed/],
    ['/v1/files/a b', /not allowed/],
    ['/v1/files/..;/chat', /not allowed/],
    ['/v1/files/%ef%bc%8e%ef%bc%8e', /not allowed/],
    ['http://evil/v1/chat/completions', /must start with \//],
  ])('%s is refused (%s)', (raw, problem) => {
    const result = normalisePath(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });
});

describe('guardedRouteOf', () => {
  test('completion routes, exactly, with a slash, below them, any case', () => {
    expect(guardedRouteOf('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(guardedRouteOf('/V1/Chat/Completions/')).toBe('/v1/chat/completions');
    expect(guardedRouteOf('/v1/completions/x')).toBe('/v1/completions');
    expect(guardedRouteOf('/v1/responses')).toBe('/v1/responses');
    expect(guardedRouteOf('/v1/models')).toBe('/v1/models');
  });
  test('other routes, and model ids below /v1/models (a policy may pass those through)', () => {
    expect(guardedRouteOf('/v1/chat')).toBeUndefined();
    expect(guardedRouteOf('/v1/completionsx')).toBeUndefined();
    expect(guardedRouteOf('/v1/models/dev')).toBeUndefined();
  });
});

describe('passthroughDecision', () => {
  const listed = ['/v1/files/*', '/v1/embeddings'];
  test('a listed route in normal form or not: forwarded in normal form', () => {
    expect(passthroughDecision('/v1/embeddings', listed)).toEqual({ kind: 'forward', path: '/v1/embeddings' });
    expect(passthroughDecision('/v1/files/a/../b', listed)).toEqual({ kind: 'forward', path: '/v1/files/b' });
  });
  test('a spelling of a guarded route: 400 invalid_path naming it', () => {
    expect(passthroughDecision('/v1/files/%2e%2e/chat/completions', listed)).toMatchObject({ kind: 'refuse', status: 400, code: 'invalid_path', message: expect.stringContaining('/v1/chat/completions') });
  });
  test('the guarded route itself with another method: 404', () => {
    expect(passthroughDecision('/v1/chat/completions', listed)).toMatchObject({ kind: 'refuse', status: 404, code: 'not_found' });
  });
  test('outside /v1/ after normalising: 400', () => {
    expect(passthroughDecision('/v1/files/../../metrics', listed)).toMatchObject({ kind: 'refuse', status: 400, code: 'invalid_path' });
  });
  test('not listed: 404 as before', () => {
    expect(passthroughDecision('/v1/audio/speech', listed)).toMatchObject({ kind: 'refuse', status: 404, code: 'not_found' });
    expect(passthroughDecision('/v1/filesystem', listed)).toMatchObject({ kind: 'refuse', status: 404 });
  });
  test('a prefix matches the path itself too: /v1/files/* lists the Files API\'s own /v1/files (upload, list)', () => {
    expect(passthroughDecision('/v1/files', listed)).toEqual({ kind: 'forward', path: '/v1/files' });
    expect(passthroughDecision('/v1/files/file-abc/content', listed)).toEqual({ kind: 'forward', path: '/v1/files/file-abc/content' });
  });
  test('a wildcard never forwards an endpoint that answers with generated text; listing it exactly does', () => {
    const everything = ['/v1/*'];
    expect(passthroughDecision('/v1/embeddings', everything)).toEqual({ kind: 'forward', path: '/v1/embeddings' });
    for (const route of ['/v1/messages', '/v1/Messages/', '/v1/audio/transcriptions', '/v1/audio/translations', '/v1/realtime/sessions', '/v1/batches']) {
      expect(passthroughDecision(route, everything)).toMatchObject({ kind: 'refuse', status: 404, code: 'not_found', message: expect.stringContaining('generated text') });
    }
    expect(passthroughDecision('/v1/audio/speech', everything)).toEqual({ kind: 'forward', path: '/v1/audio/speech' });
    expect(passthroughDecision('/v1/messages', ['/v1/*', '/v1/messages'])).toEqual({ kind: 'forward', path: '/v1/messages' });
  });
  test('a listed prefix is matched on the normal form, so a traversal out of it is unlisted', () => {
    expect(passthroughDecision('/v1/files/../audio/speech', listed)).toMatchObject({ kind: 'refuse', status: 404 });
  });
});

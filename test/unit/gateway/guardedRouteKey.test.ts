import { guardedRouteKey } from '../../../gateway/routes/guardedRouteKey';

describe('the key a guarded route is matched under (what express matches for a route path)', () => {
  test('case, one trailing slash and the query string do not change it', () => {
    for (const target of ['/v1/chat/completions', '/V1/Chat/Completions', '/v1/chat/completions/', '/v1/chat/completions?x=1', '/v1/chat/completions/?a=b&c=/d']) {
      expect(guardedRouteKey(target)).toBe('/v1/chat/completions');
    }
  });
  test('other paths keep other keys', () => {
    expect(guardedRouteKey('/v1/chat/completions//')).toBe('/v1/chat/completions/');
    expect(guardedRouteKey('/v1/chat/completions/x')).toBe('/v1/chat/completions/x');
    expect(guardedRouteKey('/v1/chat%2Fcompletions')).toBe('/v1/chat%2fcompletions');
    expect(guardedRouteKey('http://host/v1/chat/completions')).toBe('http://host/v1/chat/completions');
    expect(guardedRouteKey('/')).toBe('/');
  });
});

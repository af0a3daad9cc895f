import { decodePath } from '../../dev/functions-host/http-dispatcher';
import { compareRoutePrecedence, compileRouteTemplate } from '../../dev/functions-host/route-template';

describe('route templates', () => {
  it('matches literals case-insensitively and keeps the case of values', () => {
    const route = compileRouteTemplate('Devices/{deviceId}/Twin');
    expect(route.match('devices/Dev-1/twin')).toEqual({ deviceId: 'Dev-1' });
    expect(route.match('devices/Dev-1/twin/')).toEqual({ deviceId: 'Dev-1' });
    expect(route.match('devices/Dev-1')).toBeUndefined();
    expect(route.match('devices//twin')).toBeUndefined();
  });

  it('supports optional parameters, defaults and catch-alls', () => {
    expect(compileRouteTemplate('items/{id?}').match('items')).toEqual({});
    expect(compileRouteTemplate('items/{id?}').match('items/3')).toEqual({ id: '3' });
    expect(compileRouteTemplate('items/{page=1}').match('items')).toEqual({ page: '1' });
    const files = compileRouteTemplate('files/{*path}');
    expect(files.match('files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
    expect(files.match('files')).toEqual({});
    expect(compileRouteTemplate('raw/{**rest}').match('raw/x/y')).toEqual({ rest: 'x/y' });
  });

  it('enforces known constraints and tolerates unknown ones', () => {
    const route = compileRouteTemplate('orders/{id:int}/{flag:bool?}');
    expect(route.match('orders/12')).toEqual({ id: '12' });
    expect(route.match('orders/-3/TRUE')).toEqual({ id: '-3', flag: 'TRUE' });
    expect(route.match('orders/1.5')).toBeUndefined();
    expect(route.match('orders/99999999999')).toBeUndefined();
    expect(route.match('orders/1/maybe')).toBeUndefined();

    expect(compileRouteTemplate('r/{code:regex(^\\d{{3}}$)}').match('r/123')).toEqual({ code: '123' });
    expect(compileRouteTemplate('r/{code:regex(^\\d{{3}}$)}').match('r/1234')).toBeUndefined();
    expect(compileRouteTemplate('n/{v:range(1,10)}').match('n/11')).toBeUndefined();
    expect(compileRouteTemplate('n/{v:length(2)}').match('n/ab')).toEqual({ v: 'ab' });
    expect(compileRouteTemplate('g/{id:guid}').match('g/0f8fad5b-d9cb-469f-a165-70867728950e')).toBeDefined();
    expect(compileRouteTemplate('g/{id:guid}').match('g/nope')).toBeUndefined();

    const tolerant = compileRouteTemplate('x/{id:exotic(1)}');
    expect(tolerant.unknownConstraints).toEqual(['exotic']);
    expect(tolerant.match('x/anything')).toEqual({ id: 'anything' });
  });

  it('matches complex segments', () => {
    expect(compileRouteTemplate('files/{name}.{ext}').match('files/report.v2.pdf')).toEqual({
      name: 'report.v2',
      ext: 'pdf',
    });
  });

  it('rejects malformed templates with a clear message', () => {
    expect(() => compileRouteTemplate('a/{id')).toThrow('Invalid route template "a/{id": unclosed "{"');
    expect(() => compileRouteTemplate('a/{id?}/b')).toThrow(/optional parameter must be in the last segment/);
    expect(() => compileRouteTemplate('a/{*rest}/b')).toThrow(
      /catch-all parameter must be the whole last segment/,
    );
    expect(() => compileRouteTemplate('a/{id}/{ID}')).toThrow(/appears twice/);
    expect(() => compileRouteTemplate('a/{x:min(z)}')).toThrow(/constraint "min" needs 1 numeric argument/);
  });

  it('orders literals before constrained parameters before parameters before catch-alls', () => {
    const templates = ['things/{*rest}', 'things/{id}', 'things/{id:int}', 'things/special'];
    const sorted = [...templates].sort((a, b) =>
      compareRoutePrecedence(compileRouteTemplate(a).precedence, compileRouteTemplate(b).precedence),
    );
    expect(sorted).toEqual(['things/special', 'things/{id:int}', 'things/{id}', 'things/{*rest}']);
  });
});

describe('decodePath', () => {
  it('decodes percent-encoding but keeps %2F so that it cannot split a segment', () => {
    expect(decodePath('/api/caf%C3%A9')).toBe('/api/café');
    expect(decodePath('/api/a%2Fb')).toBe('/api/a%2Fb');
    expect(decodePath('/api/%E0%A4%A')).toBeUndefined();
  });
});

import { idsFromList, idsFromPattern } from '../../../src/cli/policy/device-ids';
import { UsageError } from '../../../src/cli/shared/usage-error';

describe('registration ids from a pattern', () => {
  it('puts the device index where {n} is, zero-padded for {n:width}', () => {
    const ids = idsFromPattern('site-{n:4}-sensor-{n}', 12);
    expect(ids.count).toBe(12);
    expect(ids.idAt(0)).toBe('site-0000-sensor-0');
    expect(ids.idAt(11)).toBe('site-0011-sensor-11');
  });

  it.each([
    ['no counter', 'device', /no \{n\}/],
    ['an unknown placeholder', 'device-{i}-{n}', /unknown placeholder \{i\}/],
    ['ids the webhook refuses', `${'x'.repeat(125)}-{n}`, /at most 128 characters/],
  ])('refuses %s', (_case, pattern, message) => {
    expect(() => idsFromPattern(pattern, 10_000)).toThrow(UsageError);
    expect(() => idsFromPattern(pattern, 10_000)).toThrow(message);
  });
});

describe('registration ids from a list', () => {
  it('takes one id per line and skips blank lines', () => {
    const ids = idsFromList('a-1\r\n\n  b-2  \nc-3\n', 'ids.txt');
    expect([0, 1, 2].map(ids.idAt)).toEqual(['a-1', 'b-2', 'c-3']);
    expect(ids.count).toBe(3);
  });

  it('names the line of a duplicate (ids are case-insensitive)', () => {
    expect(() => idsFromList('a-1\nb-2\nA-1\n', 'ids.txt')).toThrow(
      "ids.txt line 3: duplicate registration id 'A-1' (also on line 1)",
    );
  });

  it('refuses an empty list', () => {
    expect(() => idsFromList('\n\n', 'ids.txt')).toThrow(/no registration ids/);
  });
});

// The filter values every JSON API and the CLI accept: relative and absolute `since`, counts.
import { countInput, sinceInput } from '../../src/http/inputs';

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const since = sinceInput(() => NOW);

describe('since', () => {
  it('reads durations back from now', () => {
    expect(since.parse('90s')).toEqual(new Date(NOW - 90_000));
    expect(since.parse('30m')).toEqual(new Date(NOW - 30 * 60_000));
    expect(since.parse('1h')).toEqual(new Date(NOW - 3_600_000));
    expect(since.parse('7d')).toEqual(new Date(NOW - 7 * 86_400_000));
    expect(since.parse('2w')).toEqual(new Date(NOW - 14 * 86_400_000));
  });

  it('reads ISO date-times with a time zone, and dates as UTC midnight', () => {
    expect(since.parse('2026-06-01T08:00:00Z')).toEqual(new Date(Date.UTC(2026, 5, 1, 8)));
    expect(since.parse('2026-06-01T10:00:00+02:00')).toEqual(new Date(Date.UTC(2026, 5, 1, 8)));
    expect(since.parse('2026-06-01T08:00:00.250Z')).toEqual(new Date(Date.UTC(2026, 5, 1, 8, 0, 0, 250)));
    expect(since.parse('2026-06-01')).toEqual(new Date(Date.UTC(2026, 5, 1)));
  });

  it('refuses what it cannot place in time unambiguously', () => {
    for (const text of [
      '',
      'yesterday',
      '1 hour',
      '-1h',
      '1y',
      '2026-06-01T08:00:00',
      '2026-13-01',
      '1500-01-01',
      '9999999d',
    ]) {
      expect({ text, ok: since.safeParse(text).success }).toEqual({ text, ok: false });
    }
    expect(since.safeParse('soon').error?.issues[0]?.message).toMatch(/^must be a duration back from now/);
  });
});

describe('counts', () => {
  it('takes whole numbers within the bound only', () => {
    expect(countInput(1000).parse('1000')).toBe(1000);
    expect(countInput(1000).safeParse('1001').success).toBe(false);
    expect(countInput(1000).safeParse('0').success).toBe(false);
    expect(countInput(1000).safeParse('1e3').success).toBe(false);
  });
});

// The filter values the audit's HTTP API and CLI accept: relative and absolute `since`, ids that fit a table key,
// numbers, and continuation tokens that must be ones the API gave out.
import { encodePageToken, decodePageToken } from '../../../src/storage/page-token';
import { errorCodeInput, idInput } from '../../../src/audit/read/inputs';
import { countInput, sinceInput } from '../../../src/http/inputs';

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

describe('ids and numbers', () => {
  it('accepts any id that fits a table key, hostile ones included', () => {
    expect(idInput.parse("x' or PartitionKey ne '")).toBe("x' or PartitionKey ne '");
    expect(idInput.safeParse('').success).toBe(false);
    expect(idInput.safeParse('é'.repeat(200)).error?.issues[0]?.message).toBe('is too long to be a DPS id');
  });

  it('takes whole numbers only', () => {
    expect(errorCodeInput.parse('400209')).toBe(400209);
    for (const text of ['4e5', '-1', '1.0', ' 1', '0x10', '1234567890']) {
      expect({ text, ok: errorCodeInput.safeParse(text).success }).toEqual({ text, ok: false });
    }
    expect(countInput(1000).parse('1000')).toBe(1000);
    expect(countInput(1000).safeParse('1001').success).toBe(false);
    expect(countInput(1000).safeParse('0').success).toBe(false);
  });
});

describe('continuation tokens', () => {
  const sdkToken = Buffer.from(
    JSON.stringify({ nextPartitionKey: 'fleet-a', nextRowKey: 'dev+/1' }),
  ).toString('base64');

  it('round-trip as URL-safe text', () => {
    const token = encodePageToken(sdkToken);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token)).toBe(sdkToken);
  });

  it('refuse tokens the API did not give out', () => {
    const notJson = Buffer.from('nope').toString('base64url');
    const otherShape = Buffer.from('{"partition":"x"}').toString('base64url');
    for (const token of ['', 'a+b', 'not-a-token', notJson, otherShape, 'A'.repeat(9000)]) {
      expect(decodePageToken(token)).toBeUndefined();
    }
  });

  it('fail loudly if the table SDK changes its token format', () => {
    expect(() => encodePageToken('not base64 json')).toThrow(/continuation token format/);
  });
});

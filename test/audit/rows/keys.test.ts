// Table keys: reversible, free of the characters Table Storage forbids, case-insensitive for DPS ids, and laid
// out so that one registration's history rows form a range no other registration's rows fall into.
import fc from 'fast-check';
import {
  groupPartition,
  historyRange,
  historyRowKey,
  INDIVIDUAL_PARTITION,
  runRowKey,
} from '../../../src/audit/rows/keys';
import { escapeKey, idKey, unescapeKey } from '../../../src/storage/keys';
import { randomRegistrationId } from '../../allocation/support/dps-arbitraries';

fc.configureGlobal({ seed: 0x7ab1e, numRuns: 300 });

// PartitionKey/RowKey may not hold these (learn.microsoft.com: "Characters Disallowed in Key Fields").
// The control ranges are built from code points: a literal control range in a regex trips no-control-regex.
const FORBIDDEN = new RegExp(
  `[/\\\\#?${String.fromCharCode(0)}-${String.fromCharCode(0x1f)}${String.fromCharCode(0x7f)}-${String.fromCharCode(0x9f)}]`,
);
const anyText = fc.string({ unit: 'binary', maxLength: 60 });
const mixedCaseId = fc.mixedCase(randomRegistrationId);

describe('escapeKey', () => {
  it('leaves no forbidden character and round-trips any text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const key = escapeKey(text);
        expect(key).not.toMatch(FORBIDDEN);
        expect(unescapeKey(key)).toBe(text);
      }),
    );
  });

  it('keeps DPS id characters readable and encodes the rest, % included', () => {
    expect(escapeKey('Fleet-01.dev_7:a')).toBe('Fleet-01.dev_7:a');
    expect(escapeKey('a/b\\c#d?e%f')).toBe('a%2Fb%5Cc%23d%3Fe%25f');
    expect(escapeKey('tab\there~|')).toBe('tab%09here%7E%7C');
    expect(escapeKey('é')).toBe('%C3%A9');
    expect(escapeKey('a/b')).not.toBe(escapeKey('a%2Fb'));
  });

  it('refuses a key longer than 1 KiB once escaped', () => {
    expect(() => escapeKey('/'.repeat(400))).toThrow(/1024/);
  });
});

describe('idKey', () => {
  it('is the same for ids that differ only in case, and differs otherwise', () => {
    fc.assert(
      fc.property(mixedCaseId, mixedCaseId, (a, b) => {
        expect(idKey(a) === idKey(b)).toBe(a.toLowerCase() === b.toLowerCase());
      }),
    );
    expect(groupPartition('Fleet-EU')).toBe('fleet-eu');
  });

  it('never produces the partition of individual enrollments', () => {
    fc.assert(fc.property(anyText, (text) => expect(idKey(text)).not.toBe(INDIVIDUAL_PARTITION)));
    expect(idKey('~individual')).toBe('%7Eindividual');
  });
});

describe('history keys', () => {
  const at = fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true });

  it("puts a registration's rows inside its range and every other registration's rows outside it", () => {
    fc.assert(
      fc.property(randomRegistrationId, randomRegistrationId, at, (a, b, when) => {
        const range = historyRange(idKey(a));
        const inRange = (key: string) => key >= range.from && key < range.to;
        expect(inRange(historyRowKey(idKey(a), when, 'none', 'failed'))).toBe(true);
        expect(inRange(historyRowKey(idKey(b), when, 'failed', 'assigned'))).toBe(a === b);
      }),
    );
  });

  it('orders one registration’s rows by time, and is the same for the same transition', () => {
    const key = idKey('dev-1');
    const early = historyRowKey(key, new Date('2026-01-01T00:00:00Z'), 'none', 'failed');
    const late = historyRowKey(key, new Date('2026-01-02T00:00:00Z'), 'failed', 'assigned');
    expect(early < late).toBe(true);
    expect(historyRowKey(key, new Date('2026-01-01T00:00:00Z'), 'none', 'failed')).toBe(early);
    expect(early).not.toMatch(FORBIDDEN);
  });
});

it('sorts scan runs newest first', () => {
  const older = runRowKey(Date.UTC(2026, 0, 1), 'b');
  const newer = runRowKey(Date.UTC(2026, 0, 2), 'a');
  expect(newer < older).toBe(true);
  expect(newer).toMatch(/^\d{13}_a$/);
});

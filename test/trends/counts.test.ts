// Counting a day from its source rows: which history transitions open and resolve problems and how they are broken
// down; decisions per outcome and hub; every breakdown capped so a roll-up row stays small.
import {
  allocationDayOf,
  countProblemDay,
  emptyAllocationDay,
  type CountedHistory,
} from '../../src/trends/counts';
import { capCountMap, MAX_MAP_KEYS, OTHER_KEY } from '../../src/trends/table';
import { windowDays } from '../../src/trends/days';

const t = (
  fromStatus: string,
  toStatus: string,
  errorCode?: number,
  enrollmentId = 'group-a',
): CountedHistory => ({
  fromStatus,
  toStatus,
  errorCode,
  enrollmentId,
});

describe('countProblemDay', () => {
  it('counts first sightings and reopenings as opened, transitions into a resolution as resolved', () => {
    const counts = countProblemDay([
      t('none', 'failed', 400209),
      t('none', 'failed', 400209),
      t('assigned', 'unassigned', undefined, 'group-b'), // reopened
      t('failed', 'disabled', 400209), // a change, neither
      t('failed', 'assigned', 400209), // resolved
      t('unassigned', 'deleted', undefined, ''), // resolved, individual-less
    ]);
    expect(counts.opened).toEqual({
      total: 3,
      byStatus: { failed: 2, unassigned: 1 },
      byErrorCode: { '400209': 2, none: 1 },
      byEnrollment: { 'group-a': 2, 'group-b': 1 },
    });
    expect(counts.resolved).toEqual({
      total: 2,
      byStatus: { failed: 1, unassigned: 1 },
      byErrorCode: { '400209': 1, none: 1 },
      byEnrollment: { 'group-a': 1, '(none)': 1 },
      byResolution: { assigned: 1, deleted: 1 },
    });
  });

  it('does not count a first sighting that is already a resolution as opened', () => {
    expect(countProblemDay([t('none', 'assigned')]).opened.total).toBe(0);
  });
});

describe('allocationDayOf', () => {
  it("turns the decision log's summary of a day into the roll-up's counts", () => {
    expect(
      allocationDayOf({
        total: 4,
        outcomes: { assigned: 3, rejected: 1, 'invalid-request': 0 },
        hubs: [
          { hub: 'hub-a', count: 2 },
          { hub: 'hub-b', count: 1 },
        ],
      }),
    ).toEqual({
      total: 4,
      byOutcome: { assigned: 3, rejected: 1, 'invalid-request': 0 },
      byHub: { 'hub-a': 2, 'hub-b': 1 },
    });
  });

  it('has every outcome on a day without decisions', () => {
    expect(emptyAllocationDay()).toEqual({
      total: 0,
      byOutcome: { assigned: 0, rejected: 0, 'invalid-request': 0 },
      byHub: {},
    });
  });
});

describe('capCountMap', () => {
  it(`keeps the ${MAX_MAP_KEYS} keys (the biggest) and sums the rest under ${OTHER_KEY}`, () => {
    const counts = new Map(Array.from({ length: 120 }, (_, i) => [`e${String(i).padStart(3, '0')}`, i + 1]));
    const capped = capCountMap(counts);
    expect(Object.keys(capped)).toHaveLength(MAX_MAP_KEYS);
    expect(capped.e119).toBe(120);
    expect(capped.e070).toBeUndefined();
    expect(capped[OTHER_KEY]).toBe((71 * 72) / 2); // e000 to e070: 1 + 2 + ... + 71
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(Object.values(capped).reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('keeps a real key named other apart from the bucket of the rest', () => {
    const counts = new Map(Array.from({ length: 60 }, (_, i) => [`e${String(i).padStart(3, '0')}`, 100 + i]));
    counts.set('other', 1000);
    const capped = capCountMap(counts);
    expect(capped.other).toBe(1000);
    expect(capped[OTHER_KEY]).toBeGreaterThan(0);
  });

  it('leaves a small map as it is', () => {
    expect(capCountMap({ a: 1, b: 2 })).toEqual({ a: 1, b: 2 });
  });
});

it('windowDays lists the UTC days ending today, oldest first', () => {
  expect(windowDays(3, Date.parse('2026-03-01T00:30:00+02:00'))).toEqual([
    '2026-02-26',
    '2026-02-27',
    '2026-02-28',
  ]);
});

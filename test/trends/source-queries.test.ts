// The history queries a refresh sends: consecutive days become one time range, the scan's clause rides in the
// first query, and no query holds more comparisons than Azure takes in a $filter (15).
import { historyQueries } from '../../src/trends/source-queries';

const comparisons = (filter: string) => filter.match(/ (eq|ge|lt) /g)?.length ?? 0;

it("reads today and yesterday and finds the scan's rows in one query", () => {
  const queries = historyQueries(['2026-12-07', '2026-12-06'], "scan-'1'");
  expect(queries).toEqual([
    {
      filter:
        "scanId eq 'scan-''1''' or (at ge datetime'2026-12-06T00:00:00.000Z' and at lt datetime'2026-12-08T00:00:00.000Z')",
      days: new Set(['2026-12-06', '2026-12-07']),
    },
  ]);
});

it('reads a backfilled month as one range', () => {
  const month = Array.from({ length: 30 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`);
  const queries = historyQueries(month);
  expect(queries).toHaveLength(1);
  expect(comparisons(queries[0]!.filter)).toBe(2);
  expect(queries[0]!.days.size).toBe(30);
});

it('splits separate days into queries of at most 15 comparisons, each day in exactly one', () => {
  const days = Array.from({ length: 15 }, (_, i) => `2026-11-${String(2 * i + 1).padStart(2, '0')}`);
  const queries = historyQueries(days, 'scan-1');
  expect(queries).toHaveLength(3); // the scan and 7 ranges, 7 ranges, 1 range
  for (const query of queries) expect(comparisons(query.filter)).toBeLessThanOrEqual(15);
  expect(queries.filter((query) => query.filter.includes('scanId eq'))).toHaveLength(1);
  const counted = queries.flatMap((query) => [...query.days]);
  expect(counted.sort()).toEqual(days);
});

it('finds the scan alone when no day is asked for', () => {
  expect(historyQueries([], 'scan-1')).toEqual([{ filter: "scanId eq 'scan-1'", days: new Set() }]);
  expect(historyQueries([])).toEqual([]);
});

// The roll-up as the API, the dashboard and the CLI show it: the last `days` UTC days, oldest first, every day
// present in both series (zeros for a day without a row). Two reads: one RowKey range per partition.
// Each breakdown map (byStatus, byErrorCode, byEnrollment, byResolution, byHub) holds at most MAX_MAP_KEYS (50)
// keys per day: a day with more keeps its 49 biggest and sums the rest under `(other)` (OTHER_KEY), so totals
// always add up. Keys: an error code absent is `none`, a device without enrollment `(none)` (counts.ts).
import { z } from 'zod';
import { OUTCOMES } from '../decisions/table';
import { QueryError } from '../storage/errors';
import { emptyAllocationDay, emptyProblemDay } from './counts';
import { MAX_TREND_DAYS, windowDays } from './days';
import { allocationCountsOf, problemCountsOf } from './rows';
import type { TrendsStore } from './store';

export const DEFAULT_TREND_DAYS = 30;
export { MAX_TREND_DAYS };

const count = z.number().int().min(0);
/** Counts by key; at most MAX_MAP_KEYS keys, the rest summed under OTHER_KEY. */
const countMap = z.record(z.string(), count);
const day = z.iso.date();
const problemBreakdownSchema = z.object({
  total: count,
  byStatus: countMap,
  byErrorCode: countMap,
  byEnrollment: countMap,
});

export const problemTrendDaySchema = z.object({
  day,
  opened: problemBreakdownSchema,
  resolved: problemBreakdownSchema.extend({ byResolution: countMap }),
});
export type ProblemTrendDay = z.infer<typeof problemTrendDaySchema>;

export const allocationTrendDaySchema = z.object({
  day,
  total: count,
  byOutcome: z.object(
    Object.fromEntries(OUTCOMES.map((outcome) => [outcome, count])) as Record<
      (typeof OUTCOMES)[number],
      typeof count
    >,
  ),
  byHub: countMap,
});
export type AllocationTrendDay = z.infer<typeof allocationTrendDaySchema>;

export const trendsViewSchema = z.object({
  days: z.number().int().min(1).max(MAX_TREND_DAYS),
  /** UTC days, inclusive. */
  from: day,
  to: day,
  problems: z.array(problemTrendDaySchema),
  allocations: z.array(allocationTrendDaySchema),
  /** Every hub in byHub over the window, sorted. */
  hubs: z.array(z.string()),
  /** The newest updatedAt of each partition's rows in the window (when its counts last changed). */
  updatedAt: z.object({ problems: z.iso.datetime().nullable(), allocations: z.iso.datetime().nullable() }),
});
export type TrendsView = z.infer<typeof trendsViewSchema>;

const newest = (rows: Iterable<{ updatedAt: Date }>): string | null => {
  let latest: number | undefined;
  for (const row of rows) latest = Math.max(latest ?? 0, row.updatedAt.getTime());
  return latest === undefined ? null : new Date(latest).toISOString();
};

/** The last `days` (1 to MAX_TREND_DAYS) UTC days up to today. */
export async function readTrends(
  store: TrendsStore,
  days: number,
  now: () => number = Date.now,
): Promise<TrendsView> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_TREND_DAYS) {
    throw new QueryError(`days must be a whole number from 1 to ${MAX_TREND_DAYS}`);
  }
  const window = windowDays(days, now());
  const from = window[0]!;
  const to = window[window.length - 1]!;
  const [problemRows, allocationRows] = await Promise.all([
    store.rows('problems', from, to),
    store.rows('allocations', from, to),
  ]);
  const problems = window.map((d) => {
    const row = problemRows.get(d);
    return { day: d, ...(row ? problemCountsOf(row) : emptyProblemDay()) };
  });
  const allocations = window.map((d) => {
    const row = allocationRows.get(d);
    return { day: d, ...(row ? allocationCountsOf(row) : emptyAllocationDay()) };
  });
  const hubs = [...new Set(allocations.flatMap((a) => Object.keys(a.byHub)))].sort();
  return {
    days,
    from,
    to,
    problems,
    allocations,
    hubs,
    updatedAt: { problems: newest(problemRows.values()), allocations: newest(allocationRows.values()) },
  };
}

// The history the refresh counts from (what it costs is in refresh.ts's header). The history table's keys are
// devices, not times, so a query by time or by scan is a server-side filtered scan of the whole table: the days a
// refresh recomputes (and the scan whose days it looks for) go into ONE filter, an OR of day ranges, instead of a
// scan each. Only the counted properties are selected. No table yet: no rows. (Allocations are the decision log's
// own per-day summary, decisions/queries.ts.)
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { isStorageStatus } from '../storage/errors';
import { absentIfNull } from '../storage/selected-property';
import type { CountedHistory } from './counts';
import { dayStart, nextDay, utcDay } from './days';
import type { TrendsSources } from './store';

/**
 * Comparisons one $filter may hold on Azure ("Filtering on properties" in
 * https://learn.microsoft.com/rest/api/storageservices/querying-tables-and-entities).
 */
const MAX_COMPARISONS = 15;

const historySchema = z.object({
  at: z.date(),
  scanId: absentIfNull(z.string()),
  fromStatus: z.string(),
  toStatus: z.string(),
  errorCode: absentIfNull(z.number().int()),
  enrollmentId: absentIfNull(z.string()).transform((value) => value ?? ''),
});
const SELECT = ['at', 'scanId', 'fromStatus', 'toStatus', 'errorCode', 'enrollmentId'];

/** Consecutive days, both ends included. */
interface DayRange {
  first: string;
  last: string;
}

function dayRanges(days: Iterable<string>): DayRange[] {
  const ranges: DayRange[] = [];
  for (const day of [...new Set(days)].sort()) {
    const open = ranges[ranges.length - 1];
    if (open && nextDay(open.last) === day) open.last = day;
    else ranges.push({ first: day, last: day });
  }
  return ranges;
}

function daysOf(ranges: readonly DayRange[]): string[] {
  const days: string[] = [];
  for (const { first, last } of ranges) for (let day = first; day <= last; day = nextDay(day)) days.push(day);
  return days;
}

export interface HistoryQuery {
  filter: string;
  /** The days whose rows this query counts (those its ranges hold). */
  days: Set<string>;
}

/**
 * The queries that read `days` and find the scan's rows: each up to 7 runs of consecutive days (two comparisons
 * each), the first also `scanId eq` (one), so none holds more than MAX_COMPARISONS. Exported for tests.
 */
export function historyQueries(days: Iterable<string>, scanId?: string): HistoryQuery[] {
  const queries: HistoryQuery[] = [];
  let rest = dayRanges(days);
  let scan = scanId;
  while (rest.length > 0 || scan !== undefined) {
    const room = Math.floor((MAX_COMPARISONS - (scan === undefined ? 0 : 1)) / 2);
    const ranges = rest.slice(0, room);
    const clauses = ranges.map(
      ({ first, last }) => odata`(at ge ${dayStart(first)} and at lt ${dayStart(nextDay(last))})`,
    );
    if (scan !== undefined) clauses.unshift(odata`scanId eq ${scan}`);
    queries.push({ filter: clauses.join(' or '), days: new Set(daysOf(ranges)) });
    rest = rest.slice(room);
    scan = undefined;
  }
  return queries;
}

export interface HistoryOfDays {
  /** Each day asked for, with its rows (none: an empty list). */
  byDay: Map<string, CountedHistory[]>;
  /** The UTC days of the rows the scan wrote, asked for or not. */
  scanDays: Set<string>;
}

/**
 * The history rows of `days` (UTC), and the days of the rows `scanId` wrote: one filtered scan of the history
 * table, or one per 7 separate runs of days. A row counts for its day only in the query whose ranges hold that
 * day, so a row the scan clause and a range both match is counted once.
 */
export async function historyOfDays(
  sources: TrendsSources,
  days: Iterable<string>,
  scanId?: string,
): Promise<HistoryOfDays> {
  const queries = historyQueries(days, scanId);
  const byDay = new Map<string, CountedHistory[]>();
  for (const query of queries) for (const day of query.days) byDay.set(day, []);
  const scanDays = new Set<string>();
  const client = sources.audit.client('history');
  for (const query of queries) {
    const pages = client
      .listEntities({ queryOptions: { filter: query.filter, select: SELECT } })
      .byPage({ maxPageSize: 1000 });
    try {
      for (;;) {
        const page = await sources.audit.call('listEntities', 'history', () => pages.next());
        if (page.done) break;
        for (const entity of page.value) {
          const parsed = historySchema.safeParse(entity);
          if (!parsed.success) continue;
          const { at, scanId: rowScan, ...counted } = parsed.data;
          const day = utcDay(at);
          if (query.days.has(day)) byDay.get(day)!.push(counted);
          if (scanId !== undefined && rowScan === scanId) scanDays.add(day);
        }
      }
    } catch (error) {
      if (isStorageStatus(error, 404)) break; // no history table yet
      throw error;
    }
  }
  return { byDay, scanDays };
}

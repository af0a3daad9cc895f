// Keeping the daily roll-up current, after each audit scan run. Whole days are recomputed from their source rows
// and a row is written only when its counts changed: never incremented, so a replayed page or a retried write
// cannot count twice, and a run that changed nothing writes nothing (updatedAt moves only with the counts).
//
// Which days, and what they cost:
// - problems: the days of the history rows this scan wrote (one query `scanId eq …` over the history table,
//   selecting `at` only: a server-side filtered scan of the whole table, as scanId is not a key; days older than
//   MAX_TREND_DAYS are left out, no view shows them), today and
//   yesterday, and each day of the last REFRESH_WINDOW_DAYS without a row (the first refresh backfills the month).
//   Each such day is one query `at ge <day> and at lt <next day>` on the history table: also a server-side
//   filtered scan of the whole table (its keys are devices, not times), answering that day's rows only. So a
//   refresh costs (1 + days recomputed) filtered scans of the history table; usually 3 (the scan's day is today).
// - allocations: today, yesterday and the window's days without a row; one partition query per day on the
//   decision table (PartitionKey is the day), selecting outcome and hub only (decisions/queries.ts's summary
//   would also read the next day's partition for a range ending at midnight).
// Plus one RowKey-range read of each roll-up partition (its last MAX_TREND_DAYS rows) to compare against.
import { redactSecrets } from '../dps/redact';
import { readSettings } from '../settings';
import { countAllocationDay, countProblemDay } from './counts';
import { MAX_TREND_DAYS, windowDays } from './days';
import { allocationTrendRow, problemTrendRow, sameCounts } from './rows';
import { decisionsOfDay, historyDaysOfScan, historyOfDay } from './source-queries';
import { trendsSourcesFor, type TrendsSources } from './store';
import type { TrendRow, TrendsPartition } from './table';

/** Where the refresh reports (the audit timer's log: info or warning). */
export type TrendsLog = (level: 'info' | 'warn', message: string) => void;

/** The days a refresh keeps filled: the dashboard's month. */
export const REFRESH_WINDOW_DAYS = 30;
/** Days recomputed at once: each is a query of its own. */
const DAY_CONCURRENCY = 4;

export interface RefreshOptions {
  /** The scan whose history rows name the days to recompute (besides today, yesterday and missing days). */
  scanId?: string;
  now?: () => number;
}

export interface PartitionRefresh {
  /** The days recomputed from their source rows, oldest first. */
  days: string[];
  /** Rows whose counts changed, so were written. */
  rowsWritten: number;
}

async function mapConcurrently<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DAY_CONCURRENCY, items.length) }, worker));
  return results;
}

/** Recomputes `days` of one partition and writes the rows whose counts differ from the stored ones. */
async function refreshPartition(
  sources: TrendsSources,
  partition: TrendsPartition,
  pick: (stored: ReadonlySet<string>, window: readonly string[]) => Set<string>,
  recompute: (day: string, updatedAt: Date) => Promise<TrendRow>,
  nowMs: number,
): Promise<PartitionRefresh> {
  const span = windowDays(MAX_TREND_DAYS, nowMs);
  const stored = await sources.trends.rows(partition, span[0]!, span[span.length - 1]!);
  const window = span.slice(-REFRESH_WINDOW_DAYS);
  const days = [...pick(new Set(stored.keys()), window)].filter((day) => span.includes(day)).sort();
  const updatedAt = new Date(nowMs);
  const fresh = await mapConcurrently(days, (day) => recompute(day, updatedAt));
  const changed = fresh.filter((row) => {
    const old = stored.get(row.rowKey);
    return old === undefined || !sameCounts(old, row);
  });
  await sources.trends.write(changed);
  return { days, rowsWritten: changed.length };
}

/** Today, yesterday and the window's days without a row. */
function usualDays(stored: ReadonlySet<string>, window: readonly string[]): Set<string> {
  const days = new Set(window.slice(-2));
  for (const day of window) if (!stored.has(day)) days.add(day);
  return days;
}

export async function refreshProblemTrends(
  sources: TrendsSources,
  options: RefreshOptions = {},
): Promise<PartitionRefresh> {
  const nowMs = (options.now ?? Date.now)();
  const scanDays =
    options.scanId === undefined ? new Set<string>() : await historyDaysOfScan(sources, options.scanId);
  return refreshPartition(
    sources,
    'problems',
    (stored, window) => new Set([...usualDays(stored, window), ...scanDays]),
    async (day, updatedAt) =>
      problemTrendRow(day, countProblemDay(await historyOfDay(sources, day)), updatedAt),
    nowMs,
  );
}

export async function refreshAllocationTrends(
  sources: TrendsSources,
  options: Pick<RefreshOptions, 'now'> = {},
): Promise<PartitionRefresh> {
  const nowMs = (options.now ?? Date.now)();
  return refreshPartition(
    sources,
    'allocations',
    usualDays,
    async (day, updatedAt) =>
      allocationTrendRow(day, countAllocationDay(await decisionsOfDay(sources, day)), updatedAt),
    nowMs,
  );
}

export interface TrendsRefresh {
  /** undefined when that half failed (logged; the next refresh recomputes it). */
  problems: PartitionRefresh | undefined;
  allocations: PartitionRefresh | undefined;
}

const describe = (error: unknown) =>
  redactSecrets(error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 500);

/** Both halves, each on its own: one failing does not stop the other. Never throws. */
export async function refreshTrendSources(
  sources: TrendsSources,
  options: RefreshOptions & { log: TrendsLog },
): Promise<TrendsRefresh> {
  const guarded = async (name: string, work: () => Promise<PartitionRefresh>) => {
    try {
      return await work();
    } catch (error) {
      options.log(
        'warn',
        `Trends: the ${name} roll-up was not refreshed (the next run retries): ${describe(error)}`,
      );
      return undefined;
    }
  };
  const [problems, allocations] = await Promise.all([
    guarded('problems', () => refreshProblemTrends(sources, options)),
    guarded('allocations', () => refreshAllocationTrends(sources, options)),
  ]);
  const written = (problems?.rowsWritten ?? 0) + (allocations?.rowsWritten ?? 0);
  if (written > 0) {
    options.log(
      'info',
      `Trends: recomputed ${problems?.days.length ?? 0} problem and ${allocations?.days.length ?? 0} allocation days, ${written} rows changed`,
    );
  }
  return { problems, allocations };
}

/**
 * The refresh after an audit scan run, on the app settings of `env` (default process.env). Never throws: settings
 * or storage faults are logged as warnings, and the next run recomputes what this one could not.
 */
export async function refreshTrends(options: {
  env?: NodeJS.ProcessEnv;
  scanId?: string;
  log: TrendsLog;
  now?: () => number;
}): Promise<TrendsRefresh> {
  const env = options.env ?? process.env;
  let sources: TrendsSources;
  try {
    sources = trendsSourcesFor(readSettings(env), env, 'refresh');
  } catch (error) {
    options.log('warn', `Trends: not refreshed: ${describe(error)}`);
    return { problems: undefined, allocations: undefined };
  }
  return refreshTrendSources(sources, options);
}

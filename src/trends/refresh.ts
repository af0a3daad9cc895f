// Keeping the daily roll-up current, after each audit scan run (src/functions/audit.ts). Whole days are
// recomputed from their source rows and a row is written only when its counts changed: never incremented, so a
// replayed page, a retried write or a run that crashed half way cannot count twice, and a run that changed nothing
// writes nothing (updatedAt moves only with the counts).
//
// Which days, and what a refresh costs (the cost rule):
// - Both partitions first read their stored rows: one RowKey-range query each (the last MAX_TREND_DAYS days).
// - problems: today, yesterday and each day of the last REFRESH_WINDOW_DAYS without a row (so the first refresh
//   backfills the month, and a timer that stopped for days catches up), plus the days of the history rows this
//   scan wrote (history rows carry scanId; days older than MAX_TREND_DAYS are left out: no view shows them).
//   The history table's keys are devices, not times, so its queries are server-side filtered scans of the whole
//   table: the usual days and the scan go into ONE query (`scanId eq S or (at ge D1 and at lt D2) or ...`, see
//   source-queries.ts), and only when the scan wrote rows on other days (its first run over a fleet: DPS dates a
//   first sighting when DPS last updated the registration) a SECOND one reads those days. So: 1 history scan per
//   refresh, 2 at most (one more per 7 separate runs of days, which only a long-stopped timer produces).
// - allocations: today, yesterday and the window's days without a row; one partition query per day on the
//   decision table (PartitionKey is the UTC day), through the decision log's own summary (decisions/queries.ts),
//   selecting outcome and hub only. Usually 2 partition queries.
// - Writes: only the rows whose counts differ from the stored ones, in entity group transactions per partition
//   (usually 0 or 1 row: today's).
import { mapLimit } from '../concurrency/map-limit';
import { redactSecrets } from '../dps/redact';
import { decisionSummary } from '../decisions/queries';
import { readSettings } from '../settings';
import { allocationDayOf, countProblemDay, type CountedHistory } from './counts';
import { dayStart, MAX_TREND_DAYS, nextDay, windowDays } from './days';
import { allocationTrendRow, problemTrendRow, sameCounts } from './rows';
import { historyOfDays } from './source-queries';
import { trendsSourcesFor, type TrendsSources } from './store';
import type { TrendRow, TrendsPartition } from './table';

/** Where the refresh reports (the audit timer's log: info or warning). */
export type TrendsLog = (level: 'info' | 'warn', message: string) => void;

/** The days a refresh keeps filled: the dashboard's month. */
export const REFRESH_WINDOW_DAYS = 30;
/** Decision days summed at once: each is a partition query of its own. */
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

interface StoredPartition {
  /** The MAX_TREND_DAYS days up to today: what any view shows. */
  span: string[];
  /** Today, yesterday and the days of the last REFRESH_WINDOW_DAYS without a row, oldest first. */
  usualDays: string[];
  stored: ReadonlyMap<string, TrendRow>;
}

async function readStored(
  sources: TrendsSources,
  partition: TrendsPartition,
  nowMs: number,
): Promise<StoredPartition> {
  const span = windowDays(MAX_TREND_DAYS, nowMs);
  const stored: ReadonlyMap<string, TrendRow> = await sources.trends.rows(
    partition,
    span[0]!,
    span[span.length - 1]!,
  );
  const window = span.slice(-REFRESH_WINDOW_DAYS);
  const usual = new Set(window.slice(-2));
  for (const day of window) if (!stored.has(day)) usual.add(day);
  return { span, usualDays: [...usual].sort(), stored };
}

/** Writes the recomputed rows whose counts differ from the stored ones. */
async function writeChanged(
  sources: TrendsSources,
  stored: ReadonlyMap<string, TrendRow>,
  fresh: readonly TrendRow[],
): Promise<PartitionRefresh> {
  const changed = fresh.filter((row) => {
    const old = stored.get(row.rowKey);
    return old === undefined || !sameCounts(old, row);
  });
  await sources.trends.write(changed);
  return { days: fresh.map((row) => row.rowKey), rowsWritten: changed.length };
}

export async function refreshProblemTrends(
  sources: TrendsSources,
  options: RefreshOptions = {},
): Promise<PartitionRefresh> {
  const nowMs = (options.now ?? Date.now)();
  const { span, usualDays, stored } = await readStored(sources, 'problems', nowMs);
  const usual = await historyOfDays(sources, usualDays, options.scanId);
  const shown = new Set(span);
  const scanDays = [...usual.scanDays].filter((day) => shown.has(day) && !usual.byDay.has(day));
  const more =
    scanDays.length > 0
      ? (await historyOfDays(sources, scanDays)).byDay
      : new Map<string, CountedHistory[]>();
  const updatedAt = new Date(nowMs);
  const fresh = [...usualDays, ...scanDays]
    .sort()
    .map((day) =>
      problemTrendRow(day, countProblemDay(usual.byDay.get(day) ?? more.get(day) ?? []), updatedAt),
    );
  return writeChanged(sources, stored, fresh);
}

export async function refreshAllocationTrends(
  sources: TrendsSources,
  options: Pick<RefreshOptions, 'now'> = {},
): Promise<PartitionRefresh> {
  const nowMs = (options.now ?? Date.now)();
  const { usualDays, stored } = await readStored(sources, 'allocations', nowMs);
  const updatedAt = new Date(nowMs);
  const fresh = await mapLimit(usualDays, DAY_CONCURRENCY, async (day) => {
    const range = { since: dayStart(day), until: dayStart(nextDay(day)) };
    const summary = await decisionSummary(sources.decisions, range);
    return allocationTrendRow(day, allocationDayOf(summary), updatedAt);
  });
  return writeChanged(sources, stored, fresh);
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

// The roll-up kept on Azurite from a month of history and decisions written straight into their tables: the first
// refresh backfills the month, each day matches what the source tables hold, a refresh with nothing new writes
// nothing, a changed day rewrites only that day, a replayed page of history counts once, and days lost or missed
// are caught up.
import { TableClient } from '@azure/data-tables';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { DAY_MS, utcDay, windowDays } from '../../src/trends/days';
import { refreshTrendSources, refreshTrends, REFRESH_WINDOW_DAYS } from '../../src/trends/refresh';
import type { TrendsSources } from '../../src/trends/store';
import { readTrends } from '../../src/trends/view';
import { historyRow, problemRow } from '../audit/support/rows';
import { closedPort } from '../support/closed-port';
import {
  expectedAllocationDay,
  expectedProblemDay,
  monthOfDecisions,
  monthOfHistory,
  newPrefix,
  sourcesOn,
  trendEtags,
  writeDecisions,
  writeHistory,
} from './support/month';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const now = () => NOW;
const HISTORY_DAYS = 35;

let azurite: Azurite;
let sources: TrendsSources;
const warnings: string[] = [];
const log = (level: 'info' | 'warn', message: string) => {
  if (level === 'warn') warnings.push(message);
};
const refresh = (scanId?: string) => refreshTrendSources(sources, { log, now, scanId });
const etags = () => trendEtags(azurite, sources.trends.tableName);

beforeAll(async () => {
  azurite = await startAzurite();
  sources = sourcesOn(azurite, newPrefix());
  await writeHistory(sources.audit, monthOfHistory(NOW, HISTORY_DAYS));
  await writeDecisions(sources.decisions, monthOfDecisions(NOW, REFRESH_WINDOW_DAYS));
});

afterAll(async () => {
  await azurite?.stop();
});

afterEach(() => {
  expect(warnings).toEqual([]);
});

it('backfills the month: every day of the window matches what the history and decision tables hold', async () => {
  const result = await refresh();
  expect(result.problems).toEqual({
    days: windowDays(REFRESH_WINDOW_DAYS, NOW),
    rowsWritten: REFRESH_WINDOW_DAYS,
  });
  expect(result.allocations).toEqual({
    days: windowDays(REFRESH_WINDOW_DAYS, NOW),
    rowsWritten: REFRESH_WINDOW_DAYS,
  });

  const view = await readTrends(sources.trends, REFRESH_WINDOW_DAYS, now);
  for (const day of view.problems) expect(day).toEqual(await expectedProblemDay(sources.audit, day.day));
  for (const day of view.allocations)
    expect(day).toEqual(await expectedAllocationDay(sources.decisions, day.day));
  // The fixtures are not trivial: reopenings, resolutions, individual-less devices and an empty decision day.
  const sum = (pick: (d: (typeof view.problems)[number]) => number) =>
    view.problems.reduce((n, d) => n + pick(d), 0);
  expect(sum((d) => d.resolved.byResolution.deleted ?? 0)).toBeGreaterThan(0);
  expect(sum((d) => d.opened.byStatus.disabled ?? 0)).toBeGreaterThan(0);
  expect(sum((d) => d.opened.byEnrollment['(none)'] ?? 0)).toBeGreaterThan(0);
  expect(view.allocations[0]).toMatchObject({ total: 0, byHub: {} });
  expect(view.hubs).toEqual([
    'hub-a.azure-devices.net',
    'hub-b.azure-devices.net',
    'hub-c.azure-devices.net',
  ]);
  expect(view.updatedAt).toEqual({
    problems: new Date(NOW).toISOString(),
    allocations: new Date(NOW).toISOString(),
  });
});

it('writes nothing when nothing changed: only today and yesterday are recomputed, and equal', async () => {
  const before = await etags();
  const result = await refresh();
  const lastTwo = windowDays(2, NOW);
  expect(result).toEqual({
    problems: { days: lastTwo, rowsWritten: 0 },
    allocations: { days: lastTwo, rowsWritten: 0 },
  });
  expect(await etags()).toEqual(before);
});

it("recomputes a scan's days, adding those before the window, and a replayed page counts once", async () => {
  const before = await etags();
  const first = await refresh('scan-month');
  expect(first.problems?.days).toHaveLength(HISTORY_DAYS);
  expect(first.problems?.rowsWritten).toBe(HISTORY_DAYS - REFRESH_WINDOW_DAYS);
  const after = await etags();
  for (const [key, etag] of before) expect(after.get(key)).toBe(etag);

  await writeHistory(sources.audit, monthOfHistory(NOW, HISTORY_DAYS)); // the same rows again
  const again = await refresh('scan-month');
  expect(again.problems?.rowsWritten).toBe(0);
  expect(await etags()).toEqual(after);
  const oldest = utcDay(new Date(NOW - (HISTORY_DAYS - 1) * 86_400_000));
  const view = await readTrends(sources.trends, 90, now);
  expect(view.problems.find((d) => d.day === oldest)).toEqual(
    await expectedProblemDay(sources.audit, oldest),
  );
});

it("a change to one day's history rewrites that day's row only", async () => {
  const day = utcDay(new Date(NOW - 10 * DAY_MS));
  const problem = problemRow('group-z', 'late-device', { firstSeen: new Date(NOW), lastSeen: new Date(NOW) });
  await writeHistory(sources.audit, [
    historyRow(problem, 'none', 'failed', Date.parse(`${day}T23:59:59.999Z`), {
      errorCode: 400209,
      scanId: 'scan-late',
    }),
  ]);
  const before = await etags();
  const result = await refresh('scan-late');
  expect(result.problems).toEqual({ days: [day, ...windowDays(2, NOW)], rowsWritten: 1 });
  const after = await etags();
  const changed = [...after].filter(([key, etag]) => before.get(key) !== etag).map(([key]) => key);
  expect(changed).toEqual([`problems/${day}`]);
  const view = await readTrends(sources.trends, REFRESH_WINDOW_DAYS, now);
  const stored = view.problems.find((d) => d.day === day)!;
  expect(stored).toEqual(await expectedProblemDay(sources.audit, day));
  expect(stored.opened.byEnrollment['group-z']).toBe(1);
});

it('catches up on many separate missing days (a timer stopped, rows lost) and leaves the other rows alone', async () => {
  const lost = windowDays(REFRESH_WINDOW_DAYS, NOW).filter(
    (_, i) => i % 2 === 0 && i < REFRESH_WINDOW_DAYS - 2,
  );
  const client = TableClient.fromConnectionString(azurite.connectionString, sources.trends.tableName, {
    allowInsecureConnection: true,
  });
  for (const day of lost) {
    await client.deleteEntity('problems', day);
    await client.deleteEntity('allocations', day);
  }
  const before = await etags();
  const result = await refresh();
  const recomputed = [...lost, ...windowDays(2, NOW)];
  expect(result).toEqual({
    problems: { days: recomputed, rowsWritten: lost.length },
    allocations: { days: recomputed, rowsWritten: lost.length },
  });
  const after = await etags();
  for (const [key, etag] of before) expect(after.get(key)).toBe(etag);
  const view = await readTrends(sources.trends, REFRESH_WINDOW_DAYS, now);
  for (const day of lost) {
    expect(view.problems.find((d) => d.day === day)).toEqual(await expectedProblemDay(sources.audit, day));
    expect(view.allocations.find((d) => d.day === day)).toEqual(
      await expectedAllocationDay(sources.decisions, day),
    );
  }
});

it('reports a storage fault as a warning per half and does not throw', async () => {
  const port = await closedPort();
  const unreachable = {
    ...azurite,
    connectionString: azurite.connectionString.replace(/:\d+\//, `:${port}/`),
  };
  const seen: string[] = [];
  const result = await refreshTrendSources(sourcesOn(unreachable, newPrefix()), {
    log: (level, message) => seen.push(`${level}: ${message}`),
    now,
  });
  expect(result).toEqual({ problems: undefined, allocations: undefined });
  expect(seen).toHaveLength(2);
  for (const line of seen)
    expect(line).toMatch(/^warn: Trends: the (problems|allocations) roll-up was not refreshed/);
});

it('refreshTrends reports missing settings as a warning and does not throw', async () => {
  const seen: string[] = [];
  const result = await refreshTrends({ env: {}, log: (level, message) => seen.push(`${level}: ${message}`) });
  expect(result).toEqual({ problems: undefined, allocations: undefined });
  expect(seen).toEqual([
    expect.stringMatching(/^warn: Trends: not refreshed: .*AUDIT_STORAGE_CONNECTION_STRING/),
  ]);
});

it("leaves out a scan's days older than any view shows", async () => {
  const problem = problemRow('group-z', 'ancient-device', {
    firstSeen: new Date(NOW),
    lastSeen: new Date(NOW),
  });
  await writeHistory(sources.audit, [
    historyRow(problem, 'none', 'failed', NOW - 100 * DAY_MS, { scanId: 'scan-ancient' }),
  ]);
  const result = await refresh('scan-ancient');
  expect(result.problems).toEqual({ days: windowDays(2, NOW), rowsWritten: 0 });
});

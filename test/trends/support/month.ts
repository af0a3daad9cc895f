// A month (and a bit) of audit history and allocate decisions written straight into Azurite tables, the stores
// the roll-up reads, and the counts a day should have, computed from what the tables hold (not from the fixtures).
import { randomUUID } from 'node:crypto';
import { odata, TableClient } from '@azure/data-tables';
import type { Azurite } from '../../../dev/azurite';
import { historyRowSchema, resolutionSchema, type HistoryRow } from '../../../src/audit/rows/tables';
import type { AuditStore } from '../../../src/audit/store';
import { DecisionStore } from '../../../src/decisions/store';
import { decisionRowSchema, OUTCOMES, type DecisionRow } from '../../../src/decisions/table';
import { submitBatch } from '../../../src/storage/table-batch';
import { transactionsOf } from '../../../src/storage/transactions';
import { DAY_MS, utcDay } from '../../../src/trends/days';
import { TrendsStore, type TrendsSources } from '../../../src/trends/store';
import { historyRow, problemRow } from '../../audit/support/rows';
import { storeOn } from '../../audit/support/environment';

export const FAST_RETRY = { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 };
export const HUBS = ['hub-a.azure-devices.net', 'hub-b.azure-devices.net', 'hub-c.azure-devices.net'];
const GROUPS = ['group-a', 'group-b', 'group-c'];
const ERROR_CODES = [400209, 400207, undefined];

export function newPrefix(): string {
  return `Tr${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

export function sourcesOn(azurite: Azurite, prefix: string): TrendsSources {
  const connection = { kind: 'connectionString' as const, connectionString: azurite.connectionString };
  return {
    trends: new TrendsStore({ connection, tablePrefix: prefix, retry: FAST_RETRY }),
    audit: storeOn(azurite, prefix),
    decisions: new DecisionStore({ connection, tablePrefix: prefix, retry: FAST_RETRY }),
  };
}

/**
 * History over `days` days up to the day of `nowMs`: per day a few devices fail (several groups, error codes,
 * one individual-less device), some recover the same day, one reopens, one changes status; `scanId` on every row.
 */
export function monthOfHistory(nowMs: number, days: number, scanId = 'scan-month'): HistoryRow[] {
  const rows: HistoryRow[] = [];
  const today = Date.parse(`${utcDay(new Date(nowMs))}T00:00:00Z`);
  for (let back = 0; back < days; back++) {
    const dayMs = today - back * DAY_MS;
    const devices = 1 + (back % 4);
    for (let k = 0; k < devices; k++) {
      const group = back % 7 === 3 && k === 0 ? undefined : GROUPS[(back + k) % GROUPS.length]!;
      const problem = problemRow(group, `dev-${back}-${k}`, {
        firstSeen: new Date(dayMs),
        lastSeen: new Date(dayMs),
      });
      if (group === undefined) Object.assign(problem, { enrollmentKind: 'none', enrollmentId: '' });
      const errorCode = ERROR_CODES[(back + k) % ERROR_CODES.length];
      const status = errorCode === undefined ? 'unassigned' : 'failed';
      const at = (minutes: number) => dayMs + minutes * 60_000 + k * 1000;
      rows.push(historyRow(problem, 'none', status, at(60), { errorCode, scanId }));
      if (k % 2 === 1) rows.push(historyRow(problem, status, 'assigned', at(120), { errorCode, scanId }));
      if (k === 3) {
        rows.push(historyRow(problem, 'assigned', 'disabled', at(180), { scanId })); // reopened
        rows.push(historyRow(problem, 'disabled', 'deleted', at(240), { scanId }));
      }
      if (k === 2) rows.push(historyRow(problem, status, 'disabled', at(300), { errorCode, scanId })); // a change
    }
  }
  return rows;
}

/** Decisions on the last `days` days (none at all on the day `days` back, to see a zero-filled day). */
export function monthOfDecisions(nowMs: number, days: number): DecisionRow[] {
  const rows: DecisionRow[] = [];
  const today = Date.parse(`${utcDay(new Date(nowMs))}T00:00:00Z`);
  for (let back = 0; back < days - 1; back++) {
    const count = (back % 5) + 1;
    for (let i = 0; i < count; i++) {
      const at = new Date(today - back * DAY_MS + i * 60_000);
      const outcome = i === 2 ? 'rejected' : i === 4 ? 'invalid-request' : 'assigned';
      const row: DecisionRow = {
        partitionKey: utcDay(at),
        rowKey: `${at.toISOString()}|dev-${back}-${i}|s${i}`,
        at,
        registrationId: `dev-${back}-${i}`,
        outcome,
        status: outcome === 'invalid-request' ? 400 : 200,
        reason: 'test',
        latencyMs: 1,
        candidateCount: 2,
      };
      if (outcome !== 'invalid-request') row.hub = HUBS[(back + i) % HUBS.length];
      rows.push(row);
    }
  }
  return rows;
}

export async function writeHistory(store: AuditStore, rows: readonly HistoryRow[]): Promise<void> {
  await store.ensureTables();
  await store.upsert('history', rows);
}

export async function writeDecisions(store: DecisionStore, rows: readonly DecisionRow[]): Promise<void> {
  await store.client.createTable();
  for (const transaction of transactionsOf(rows, (row) => row.partitionKey)) {
    await submitBatch(
      store.client,
      transaction.map((row) => ['upsert', row] as const),
    );
  }
}

const tally = (keys: string[]) => {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
};
const RESOLUTIONS = new Set<string>(resolutionSchema.options);

/** The problems of `day` as the history table holds them (read back whole, grouped here). */
export async function expectedProblemDay(store: AuditStore, day: string) {
  const rows: HistoryRow[] = [];
  for await (const row of store.rows('history', historyRowSchema)) if (utcDay(row.at) === day) rows.push(row);
  const opened = rows.filter(
    (r) => (r.fromStatus === 'none' || RESOLUTIONS.has(r.fromStatus)) && !RESOLUTIONS.has(r.toStatus),
  );
  const resolved = rows.filter((r) => RESOLUTIONS.has(r.toStatus));
  const code = (r: HistoryRow) => (r.errorCode === undefined ? 'none' : String(r.errorCode));
  const enrollment = (r: HistoryRow) => (r.enrollmentId === '' ? '(none)' : r.enrollmentId);
  return {
    day,
    opened: {
      total: opened.length,
      byStatus: tally(opened.map((r) => r.toStatus)),
      byErrorCode: tally(opened.map(code)),
      byEnrollment: tally(opened.map(enrollment)),
    },
    resolved: {
      total: resolved.length,
      byStatus: tally(resolved.map((r) => r.fromStatus)),
      byErrorCode: tally(resolved.map(code)),
      byEnrollment: tally(resolved.map(enrollment)),
      byResolution: tally(resolved.map((r) => r.toStatus)),
    },
  };
}

/** The allocations of `day` as its decision partition holds them. */
export async function expectedAllocationDay(store: DecisionStore, day: string) {
  const rows: DecisionRow[] = [];
  try {
    for await (const entity of store.client.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${day}` },
    })) {
      rows.push(decisionRowSchema.parse(entity));
    }
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  const byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, rows.filter((r) => r.outcome === o).length]));
  return {
    day,
    total: rows.length,
    byOutcome,
    byHub: tally(rows.filter((r) => r.outcome === 'assigned' && r.hub !== undefined).map((r) => r.hub!)),
  };
}

/** Each roll-up row's etag by partition and day: an entity written again gets a new one. */
export async function trendEtags(azurite: Azurite, table: string): Promise<Map<string, string>> {
  const client = TableClient.fromConnectionString(azurite.connectionString, table, {
    allowInsecureConnection: true,
  });
  const etags = new Map<string, string>();
  for await (const entity of client.listEntities())
    etags.set(`${entity.partitionKey}/${entity.rowKey}`, entity.etag);
  return etags;
}

// The queries the refresh counts from (their cost is in refresh.ts's header): the audit's history by time or by
// scan, and one day's partition of the decision log, each selecting only the properties counted. A source table
// that does not exist yet has no rows.
import { odata, type TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { outcomeSchema } from '../decisions/table';
import { isStorageStatus } from '../storage/errors';
import type { CountedDecision, CountedHistory } from './counts';
import { dayStart, nextDay, utcDay } from './days';
import type { TrendsSources } from './store';

interface QuerySource {
  client: TableClient;
  /** Turns what the SDK could not retry into a StorageError naming the table. */
  call<T>(run: () => Promise<T>): Promise<T>;
}

const history = (sources: TrendsSources): QuerySource => ({
  client: sources.audit.client('history'),
  call: (run) => sources.audit.call('listEntities', 'history', run),
});
const decisions = (sources: TrendsSources): QuerySource => ({
  client: sources.decisions.client,
  call: (run) => sources.decisions.call('listEntities', run),
});

// A property $select names but an entity lacks may come back null: read it as absent.
const absentIfNull = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((value) => value ?? undefined);

const countedHistorySchema = z.object({
  fromStatus: z.string(),
  toStatus: z.string(),
  errorCode: absentIfNull(z.number().int()),
  enrollmentId: absentIfNull(z.string()).transform((value) => value ?? ''),
});
const countedDecisionSchema = z.object({ outcome: outcomeSchema, hub: absentIfNull(z.string()) });
const historyAtSchema = z.object({ at: z.date() });

/** Every row of a query, parsed (malformed rows skipped). */
async function queryRows<S extends z.ZodType>(
  source: QuerySource,
  schema: S,
  filter: string,
  select: string[],
): Promise<z.infer<S>[]> {
  const rows: z.infer<S>[] = [];
  const pages = source.client
    .listEntities({ queryOptions: { filter, select } })
    .byPage({ maxPageSize: 1000 });
  try {
    for (;;) {
      const page = await source.call(() => pages.next());
      if (page.done) return rows;
      for (const entity of page.value) {
        const parsed = schema.safeParse(entity);
        if (parsed.success) rows.push(parsed.data);
      }
    }
  } catch (error) {
    if (isStorageStatus(error, 404)) return rows;
    throw error;
  }
}

/** The history rows of one UTC day (a filtered scan of the whole history table). */
export function historyOfDay(sources: TrendsSources, day: string): Promise<CountedHistory[]> {
  const filter = odata`at ge ${dayStart(day)} and at lt ${dayStart(nextDay(day))}`;
  return queryRows(history(sources), countedHistorySchema, filter, [
    'fromStatus',
    'toStatus',
    'errorCode',
    'enrollmentId',
  ]);
}

/** The UTC days of the history rows a scan wrote (a filtered scan of the whole history table). */
export async function historyDaysOfScan(sources: TrendsSources, scanId: string): Promise<Set<string>> {
  const rows = await queryRows(history(sources), historyAtSchema, odata`scanId eq ${scanId}`, ['at']);
  return new Set(rows.map((row) => utcDay(row.at)));
}

/** The decisions of one UTC day: one partition. */
export function decisionsOfDay(sources: TrendsSources, day: string): Promise<CountedDecision[]> {
  return queryRows(decisions(sources), countedDecisionSchema, odata`PartitionKey eq ${day}`, [
    'outcome',
    'hub',
  ]);
}

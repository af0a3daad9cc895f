// Reading decisions back: a time range is a RowKey range (every RowKey starts with its ISO time) over the day
// partitions it touches, so rows come back oldest first and "the last hour" reads one or two partitions. Filter
// values reach OData only through the SDK's `odata` template. Before the first decision the table does not
// exist: that reads as no decisions, not as an error.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { QueryError, isStorageStatus } from '../storage/errors';
import { encodePageToken } from '../storage/page-token';
import { absentIfNull } from '../storage/selected-property';
import type { DecisionStore } from './store';
import {
  dayPartition,
  decisionRowSchema,
  OUTCOMES,
  outcomeSchema,
  zeroOutcomeCounts,
  type DecisionOutcome,
} from './table';
import { decisionView, type DecisionSummary, type DecisionView } from './views';

export interface DecisionFilters {
  /** Decisions at or after this time. */
  since: Date;
  /** Decisions before this time; default: no end. */
  until?: Date;
  outcome?: DecisionOutcome;
  /** A hub host name, exactly as DPS sent it (OData compares case-sensitively). */
  hub?: string;
}

export interface DecisionPageRequest extends DecisionFilters {
  /** 1 to 1000; default 100. */
  limit?: number;
  /** The table SDK's token (decodePageToken of one this module gave out). */
  continuationToken?: string;
}

export interface DecisionPage {
  /** Oldest first. */
  items: DecisionView[];
  /** URL-safe; undefined on the last page. */
  continuationToken: string | undefined;
}

export const MAX_DECISION_PAGE = 1000;

const validDate = (date: unknown): date is Date => date instanceof Date && !Number.isNaN(date.getTime());

/** The OData filter of a decisions query; exported for tests. */
export function decisionsFilter(filters: DecisionFilters): string {
  const { since, until } = filters;
  if (!validDate(since)) throw new QueryError('since must be a valid date');
  if (until !== undefined && !validDate(until)) throw new QueryError('until must be a valid date');
  if (until !== undefined && until.getTime() <= since.getTime()) {
    throw new QueryError('until must be later than since');
  }
  const clauses = [odata`PartitionKey ge ${dayPartition(since)}`, odata`RowKey ge ${since.toISOString()}`];
  if (until !== undefined) {
    clauses.push(odata`PartitionKey le ${dayPartition(until)}`, odata`RowKey lt ${until.toISOString()}`);
  }
  if (filters.outcome !== undefined) {
    if (!outcomeSchema.safeParse(filters.outcome).success) {
      throw new QueryError(`outcome must be one of ${OUTCOMES.join(', ')}`);
    }
    clauses.push(odata`outcome eq ${filters.outcome}`);
  }
  if (filters.hub !== undefined) {
    if (filters.hub.trim() === '') throw new QueryError('hub must not be empty');
    clauses.push(odata`hub eq ${filters.hub}`);
  }
  return clauses.join(' and ');
}

function limitOf(limit: number | undefined): number {
  const value = limit ?? 100;
  if (!Number.isInteger(value) || value < 1 || value > MAX_DECISION_PAGE) {
    throw new QueryError(`limit must be an integer from 1 to ${MAX_DECISION_PAGE}`);
  }
  return value;
}

/**
 * A page of decisions in time order, up to `limit` of them: pages the service returns short (it does, with
 * filters) are topped up, so a short page means the last one.
 */
export async function readDecisions(
  store: DecisionStore,
  request: DecisionPageRequest,
): Promise<DecisionPage> {
  const filter = decisionsFilter(request);
  const limit = limitOf(request.limit);
  const items: DecisionView[] = [];
  let token = request.continuationToken;
  try {
    do {
      const pages = store.client
        .listEntities({ queryOptions: { filter } })
        .byPage({ maxPageSize: limit - items.length, continuationToken: token });
      const page = await store.call('listEntities', () => pages.next());
      if (page.done) {
        token = undefined;
        break;
      }
      for (const entity of page.value) {
        const row = decisionRowSchema.safeParse(entity);
        if (row.success) items.push(decisionView(row.data));
      }
      token = page.value.continuationToken;
    } while (token !== undefined && items.length < limit);
  } catch (error) {
    if (isStorageStatus(error, 404)) return { items: [], continuationToken: undefined };
    throw error;
  }
  return { items, continuationToken: token === undefined ? undefined : encodePageToken(token) };
}

const countedSchema = z.object({ outcome: outcomeSchema, hub: absentIfNull(z.string()) });

/** The UTC days from `since` to `until`, as partition keys. */
function daysBetween(since: Date, until: Date): string[] {
  const days: string[] = [];
  const last = dayPartition(new Date(until.getTime() - 1)); // exclusive: a midnight `until` skips its day
  for (let day = dayPartition(since); day <= last;) {
    days.push(day);
    day = dayPartition(new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000));
  }
  return days;
}

/** The longest range a summary counts: it reads every row of the range. */
export const MAX_SUMMARY_DAYS = 7;

/**
 * Decisions from `since` to `until` (default now) counted per outcome and, for assigned ones, per hub. Only the
 * two columns are read, one partition per day, concurrently.
 */
export async function decisionSummary(
  store: DecisionStore,
  range: { since: Date; until?: Date },
  now: () => number = Date.now,
): Promise<DecisionSummary> {
  const until = range.until ?? new Date(now());
  decisionsFilter({ since: range.since, until }); // validates the range
  if (until.getTime() - range.since.getTime() > MAX_SUMMARY_DAYS * 86_400_000) {
    throw new QueryError(`a summary covers at most ${MAX_SUMMARY_DAYS} days`);
  }
  const outcomes = zeroOutcomeCounts();
  const hubs = new Map<string, number>();
  const countDay = async (day: string) => {
    const filter = odata`PartitionKey eq ${day} and RowKey ge ${range.since.toISOString()} and RowKey lt ${until.toISOString()}`;
    const pages = store.client
      .listEntities({ queryOptions: { filter, select: ['outcome', 'hub'] } })
      .byPage({ maxPageSize: 1000 });
    for (;;) {
      const page = await store.call('listEntities', () => pages.next());
      if (page.done) return;
      for (const entity of page.value) {
        const row = countedSchema.safeParse(entity);
        if (!row.success) continue;
        outcomes[row.data.outcome]++;
        if (row.data.outcome === 'assigned' && row.data.hub !== undefined) {
          hubs.set(row.data.hub, (hubs.get(row.data.hub) ?? 0) + 1);
        }
      }
    }
  };
  try {
    await Promise.all(daysBetween(range.since, until).map(countDay));
  } catch (error) {
    if (!isStorageStatus(error, 404)) throw error;
    // No table yet: no decisions.
  }
  const total = OUTCOMES.reduce((sum, outcome) => sum + outcomes[outcome], 0);
  return {
    since: range.since.toISOString(),
    until: until.toISOString(),
    total,
    outcomes,
    hubs: [...hubs]
      .map(([hub, count]) => ({ hub, count }))
      .sort((a, b) => b.count - a.count || (a.hub < b.hub ? -1 : a.hub > b.hub ? 1 : 0)),
  };
}

// Fleet-wide views for the dashboard (and the CLI): counts of the open problems, and the newest status
// transitions across every device. Both read only the columns they need (`select`). Neither table has an index on
// time or status, so both are filtered scans of the table on the server: fine at dashboard refresh rates for the
// problem counts of a fleet (one row per problem device), and capped for the transitions.
import { odata, type TableEntityResult } from '@azure/data-tables';
import { z } from 'zod';
import { QueryError, isStorageStatus } from '../../storage/errors';
import { explainErrorCode } from '../rows/error-codes';
import { PROBLEM_STATUSES } from '../rows/problems';
import { historyRowSchema, problemRowSchema, type EnrollmentKind } from '../rows/tables';
import { type AuditStore, type AuditTable } from '../store';

/** Window of "resolved recently" in the summary. */
export const RESOLVED_WINDOW_MS = 24 * 3_600_000;
/** Groups listed in the summary; the rest are counted in `groupsWithProblems`. */
export const MAX_SUMMARY_GROUPS = 100;
/** Transitions read from each table at most: the query is a scan, so its cost is bounded here. */
export const MAX_TRANSITION_ROWS_READ = 5_000;
/** Pages requested from each table at most (a scan may answer empty pages while it walks the table). */
export const MAX_TRANSITION_PAGES = 50;
export const MAX_TRANSITIONS = 500;
/** What the transitions endpoint and CLI command show when not told. */
export const DEFAULT_TRANSITIONS = 50;
export const DEFAULT_TRANSITIONS_SINCE = '24h';

const PAGE_SIZE = 1000;

export interface StatusCount {
  status: string;
  count: number;
}

export interface ErrorCodeCount {
  /** null: problems without a DPS error code (unassigned, disabled, stuck assigning). */
  errorCode: number | null;
  count: number;
  explanation: string;
}

export interface GroupCount {
  enrollmentKind: EnrollmentKind;
  /** The enrollment group id; null for the bucket of all individual enrollments. */
  enrollmentId: string | null;
  count: number;
}

export interface ProblemSummary {
  /** When the counts were read. */
  at: Date;
  /** Open problems. */
  open: number;
  /** Problems resolved at or after `resolvedSince` (24 hours before `at`). */
  resolvedRecently: number;
  resolvedSince: Date;
  /** Every problem status (zeros included), then any other status found. */
  byStatus: StatusCount[];
  /** Most problems first. */
  byErrorCode: ErrorCodeCount[];
  /** Most problems first, at most MAX_SUMMARY_GROUPS entries; individual enrollments share one entry. */
  byGroup: GroupCount[];
  /** Enrollments with open problems (groups, plus one for the individual enrollments if any). */
  groupsWithProblems: number;
}

export const NO_ERROR_CODE_EXPLANATION =
  'No DPS error code: the device is unassigned, disabled or stuck assigning (see its status).';

const openRowSchema = problemRowSchema.pick({
  partitionKey: true,
  status: true,
  errorCode: true,
  enrollmentKind: true,
  enrollmentId: true,
});

/** Rows of a filtered, column-limited query; a table that does not exist yet has none. */
async function* selectedRows<S extends z.ZodType>(
  store: AuditStore,
  table: AuditTable,
  schema: S,
  filter: string,
  select: string[],
  maxPages = Number.POSITIVE_INFINITY,
): AsyncGenerator<z.infer<S>, { complete: boolean }> {
  const pages = store
    .client(table)
    .listEntities({ queryOptions: { filter, select } })
    .byPage({ maxPageSize: PAGE_SIZE });
  for (let read = 0; read < maxPages; read++) {
    let page: IteratorResult<TableEntityResult<Record<string, unknown>>[]>;
    try {
      page = await store.call('listEntities', table, () => pages.next());
    } catch (error) {
      if (isStorageStatus(error, 404)) return { complete: true };
      throw error;
    }
    if (page.done) return { complete: true };
    for (const entity of page.value) {
      const parsed = schema.safeParse(entity);
      if (parsed.success) yield parsed.data as z.infer<S>;
    }
  }
  return { complete: false };
}

function byCountThen<T extends { count: number }>(tieBreak: (a: T, b: T) => number) {
  return (a: T, b: T) => b.count - a.count || tieBreak(a, b);
}

/** Counts of the open problems by status, error code and enrollment, and how many were resolved in the last day. */
export async function problemSummary(store: AuditStore, nowMs = Date.now()): Promise<ProblemSummary> {
  const resolvedSince = new Date(nowMs - RESOLVED_WINDOW_MS);
  const statuses = new Map<string, number>(PROBLEM_STATUSES.map((status) => [status, 0]));
  const codes = new Map<number | null, number>();
  const groups = new Map<string, GroupCount>();
  let open = 0;

  const countOpen = async () => {
    const rows = selectedRows(store, 'problems', openRowSchema, odata`open eq ${true}`, [
      'PartitionKey',
      'status',
      'errorCode',
      'enrollmentKind',
      'enrollmentId',
    ]);
    for await (const row of rows) {
      open++;
      statuses.set(row.status, (statuses.get(row.status) ?? 0) + 1);
      const code = row.errorCode ?? null;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      // Individual enrollments and devices refused at attestation are one entry each, without an id.
      const unnamed = row.enrollmentKind !== 'group';
      const key = unnamed ? `~${row.enrollmentKind}` : row.partitionKey;
      let group = groups.get(key);
      if (!group) {
        group = {
          enrollmentKind: row.enrollmentKind,
          enrollmentId: unnamed ? null : row.enrollmentId,
          count: 0,
        };
        groups.set(key, group);
      }
      group.count++;
    }
  };
  const countResolved = async () => {
    let count = 0;
    const filter = odata`open eq ${false} and resolvedAt ge ${resolvedSince}`;
    for await (const _row of selectedRows(store, 'problems', z.object({}), filter, ['PartitionKey'])) count++;
    return count;
  };
  const [, resolvedRecently] = await Promise.all([countOpen(), countResolved()]);

  const groupList = [...groups.values()].sort(
    byCountThen((a, b) => (a.enrollmentId ?? '').localeCompare(b.enrollmentId ?? '')),
  );
  return {
    at: new Date(nowMs),
    open,
    resolvedRecently,
    resolvedSince,
    byStatus: [...statuses].map(([status, count]) => ({ status, count })),
    byErrorCode: [...codes]
      .map(([errorCode, count]) => ({
        errorCode,
        count,
        explanation: errorCode === null ? NO_ERROR_CODE_EXPLANATION : explainErrorCode(errorCode),
      }))
      .sort(byCountThen((a, b) => (a.errorCode ?? Infinity) - (b.errorCode ?? Infinity))),
    byGroup: groupList.slice(0, MAX_SUMMARY_GROUPS),
    groupsWithProblems: groupList.length,
  };
}

export interface Transition {
  at: Date;
  registrationId: string;
  enrollmentKind: EnrollmentKind;
  enrollmentId: string;
  /** `none` for a first sighting; a resolution (`assigned`, ...) when a problem reopened. */
  fromStatus: string;
  /** A problem status, or a resolution (`assigned`, `deleted`, `enrollment-deleted`, `certificate-valid`). */
  toStatus: string;
  errorCode?: number;
}

export interface RecentTransitions {
  since: Date;
  /** Newest first. */
  items: Transition[];
  /** True when a read cap was reached: older transitions in the window may be missing. */
  truncated: boolean;
}

const historySelect = [
  'PartitionKey',
  'RowKey',
  'registrationId',
  'enrollmentKind',
  'enrollmentId',
  'fromStatus',
  'toStatus',
  'errorCode',
  'at',
];
const historySchema = historyRowSchema.pick({
  rowKey: true,
  registrationId: true,
  enrollmentKind: true,
  enrollmentId: true,
  fromStatus: true,
  toStatus: true,
  errorCode: true,
  at: true,
});

const firstSightingSelect = [
  'PartitionKey',
  'RowKey',
  'registrationId',
  'enrollmentKind',
  'enrollmentId',
  'status',
  'errorCode',
  'firstSeen',
  'historyStarted',
];
const firstSightingSchema = problemRowSchema.pick({
  rowKey: true,
  registrationId: true,
  enrollmentKind: true,
  enrollmentId: true,
  status: true,
  errorCode: true,
  firstSeen: true,
  historyStarted: true,
});

interface Candidate {
  transition: Transition;
  /** Orders transitions at the same time (one device's rows by their key). */
  key: string;
}

/** Reads rows up to the caps; whether every matching row was read. */
async function collect<T>(rows: AsyncGenerator<T, { complete: boolean }>, take: (row: T) => void) {
  let read = 0;
  for (;;) {
    const next = await rows.next();
    if (next.done) return next.value.complete;
    take(next.value);
    if (++read >= MAX_TRANSITION_ROWS_READ) {
      await rows.return({ complete: false });
      return false;
    }
  }
}

/**
 * The newest status transitions of every device since a time, newest first: the history rows, plus the first
 * sightings of problem rows written by earlier versions, which wrote them only with the problem's first change
 * (`historyStarted` false; as in `history()`). A first sighting is dated when DPS last updated the registration,
 * which can be long before the audit first saw it (`firstSeen`). The history table has no index on time: this is a
 * filtered scan, capped at
 * MAX_TRANSITION_ROWS_READ rows and MAX_TRANSITION_PAGES pages per table (`truncated` says when a cap was hit).
 */
export async function recentTransitions(
  store: AuditStore,
  options: { since: Date; limit: number },
): Promise<RecentTransitions> {
  const { since, limit } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TRANSITIONS) {
    throw new QueryError(`limit must be an integer from 1 to ${MAX_TRANSITIONS}`);
  }
  const candidates: Candidate[] = [];
  const historyRows = selectedRows(
    store,
    'history',
    historySchema,
    odata`at ge ${since}`,
    historySelect,
    MAX_TRANSITION_PAGES,
  );
  const problemRows = selectedRows(
    store,
    'problems',
    firstSightingSchema,
    odata`firstSeen ge ${since}`,
    firstSightingSelect,
    MAX_TRANSITION_PAGES,
  );
  const [historyComplete, problemsComplete] = await Promise.all([
    collect(historyRows, ({ rowKey, ...transition }) => candidates.push({ transition, key: rowKey })),
    collect(problemRows, (row) => {
      if (row.historyStarted) return; // its first sighting is a history row already
      candidates.push({
        key: `${row.rowKey}|`,
        transition: {
          at: row.firstSeen,
          registrationId: row.registrationId,
          enrollmentKind: row.enrollmentKind,
          enrollmentId: row.enrollmentId,
          fromStatus: 'none',
          toStatus: row.status,
          errorCode: row.errorCode,
        },
      });
    }),
  ]);
  candidates.sort(
    (a, b) =>
      b.transition.at.getTime() - a.transition.at.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0),
  );
  return {
    since,
    items: candidates.slice(0, limit).map((candidate) => candidate.transition),
    truncated: !historyComplete || !problemsComplete,
  };
}

// Read functions over the audit tables, for the HTTP view and the CLI. Filters become OData through the SDK's
// `odata` template (values quoted and escaped, never pasted in), after validation here: a bad filter is a
// QueryError with a clear message, never a storage error.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { QueryError } from '../../storage/errors';
import { idKey } from '../../storage/keys';
import { groupPartition, historyRange } from '../rows/keys';
import { firstSightingRow, PROBLEM_STATUSES } from '../rows/problems';
import {
  findingsRowSchema,
  historyRowSchema,
  problemRowSchema,
  RUNS_PARTITION,
  scanRunRowSchema,
  STATE_PARTITION,
  CHECKPOINT_ROW,
  type EnrollmentKind,
  type FindingsRow,
  type HistoryRow,
  type ProblemRow,
  type ScanRunRow,
} from '../rows/tables';
import { checkpointSchema, type Checkpoint } from '../scan/checkpoint';
import type { AuditStore } from '../store';

export interface ProblemFilters {
  /** `failed`, `unassigned`, `disabled` or `assigning`. */
  status?: string;
  /** An enrollment group id (case-insensitive). */
  group?: string;
  /** `individual`: only individual enrollments; `group`: only group members. */
  kind?: EnrollmentKind;
  errorCode?: number;
  /** Problems first seen at or after this time. */
  since?: Date;
  /** true: only resolved problems; false: only open ones; absent: both. */
  resolved?: boolean;
}

export interface PageRequest {
  /** From the previous page's answer. */
  continuationToken?: string;
  /** 1 to 1000; default 100. A page may hold fewer rows and still have a continuation token. */
  pageSize?: number;
}

export interface ResultPage<T> {
  items: T[];
  /** Pass back for the next page; undefined on the last page. */
  continuationToken: string | undefined;
}

const MAX_PAGE_SIZE = 1000;

function pageSizeOf(page: PageRequest): number {
  const size = page.pageSize ?? 100;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new QueryError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return size;
}

/** The OData filter of a problems query. Exported for tests; values are validated, then quoted by `odata`. */
export function problemsFilter(filters: ProblemFilters): string | undefined {
  const clauses: string[] = [];
  if (filters.group !== undefined) {
    if (filters.group.trim() === '') throw new QueryError('group must not be empty');
    clauses.push(odata`PartitionKey eq ${groupPartition(filters.group)}`);
  }
  if (filters.kind !== undefined) {
    if (filters.kind !== 'group' && filters.kind !== 'individual') {
      throw new QueryError("kind must be 'group' or 'individual'");
    }
    clauses.push(odata`enrollmentKind eq ${filters.kind}`);
  }
  if (filters.status !== undefined) {
    if (!(PROBLEM_STATUSES as readonly string[]).includes(filters.status)) {
      throw new QueryError(`status must be one of ${PROBLEM_STATUSES.join(', ')}`);
    }
    clauses.push(odata`status eq ${filters.status}`);
  }
  if (filters.errorCode !== undefined) {
    if (!Number.isSafeInteger(filters.errorCode)) throw new QueryError('errorCode must be an integer');
    clauses.push(odata`errorCode eq ${filters.errorCode}`);
  }
  if (filters.since !== undefined) {
    if (!(filters.since instanceof Date) || Number.isNaN(filters.since.getTime())) {
      throw new QueryError('since must be a valid date');
    }
    clauses.push(odata`firstSeen ge ${filters.since}`);
  }
  if (filters.resolved !== undefined) {
    if (typeof filters.resolved !== 'boolean') throw new QueryError('resolved must be true or false');
    clauses.push(odata`open eq ${!filters.resolved}`);
  }
  return clauses.length > 0 ? clauses.join(' and ') : undefined;
}

async function firstPage<S extends z.ZodType>(
  store: AuditStore,
  table: 'problems' | 'history' | 'findings' | 'scans',
  schema: S,
  filter: string | undefined,
  page: PageRequest,
): Promise<ResultPage<z.infer<S>>> {
  const pageSize = pageSizeOf(page);
  const client = store.client(table);
  const pages = client
    .listEntities(filter ? { queryOptions: { filter } } : {})
    .byPage({ maxPageSize: pageSize, continuationToken: page.continuationToken });
  const result = await store.call('listEntities', table, () => pages.next());
  if (result.done) return { items: [], continuationToken: undefined };
  const items = result.value.flatMap((entity) => {
    const parsed = schema.safeParse(entity);
    return parsed.success ? [parsed.data as z.infer<S>] : [];
  });
  return { items, continuationToken: result.value.continuationToken };
}

/** A page of problem rows, in partition (group) and registration-key order. */
export async function listProblems(
  store: AuditStore,
  filters: ProblemFilters = {},
  page: PageRequest = {},
): Promise<ResultPage<ProblemRow>> {
  return firstPage(store, 'problems', problemRowSchema, problemsFilter(filters), page);
}

/**
 * A registration's status transitions, oldest first, in every partition it has a problem row in (normally one).
 * The first sighting of a problem that has not changed since is not in the history table yet (it is written with
 * the first change): it is built here from the problem row, as it will be written. With the group (the problem
 * row's partition) the lookups stay in one partition; without, the problems table is searched by RowKey (a scan on
 * Azure: fine for an operator's question, not for a loop).
 */
export async function history(
  store: AuditStore,
  registrationId: string,
  options: { group?: string } = {},
): Promise<HistoryRow[]> {
  if (registrationId.trim() === '') throw new QueryError('registrationId must not be empty');
  const registrationKey = idKey(registrationId);
  const byRow = odata`RowKey eq ${registrationKey}`;
  const problemFilter =
    options.group === undefined
      ? byRow
      : `${odata`PartitionKey eq ${groupPartition(options.group)}`} and ${byRow}`;
  const { from, to } = historyRange(registrationKey);
  const rows: HistoryRow[] = [];
  for await (const problem of store.rows('problems', problemRowSchema, problemFilter)) {
    if (!problem.historyStarted) {
      rows.push(firstSightingRow(problem, problem.lastScanId));
      continue;
    }
    const filter = odata`PartitionKey eq ${problem.partitionKey} and RowKey ge ${from} and RowKey lt ${to}`;
    for await (const row of store.rows('history', historyRowSchema, filter)) rows.push(row);
  }
  return rows.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.rowKey < b.rowKey ? -1 : 1));
}

/** The newest `count` scan runs, newest first. */
export async function recentScans(store: AuditStore, count = 20): Promise<ScanRunRow[]> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PAGE_SIZE) {
    throw new QueryError(`count must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const runs: ScanRunRow[] = [];
  for await (const row of store.rows('scans', scanRunRowSchema, odata`PartitionKey eq ${RUNS_PARTITION}`)) {
    runs.push(row);
    if (runs.length >= count) break;
  }
  return runs;
}

/** Enrollment findings: every group's row, and the individual enrollments that have findings. */
export async function findings(
  store: AuditStore,
  options: { kind?: EnrollmentKind; onlyWithFindings?: boolean } = {},
): Promise<FindingsRow[]> {
  const clauses: string[] = [];
  if (options.kind !== undefined) clauses.push(odata`PartitionKey eq ${options.kind}`);
  if (options.onlyWithFindings) clauses.push(odata`findingCount gt ${0}`);
  const rows: FindingsRow[] = [];
  const filter = clauses.length > 0 ? clauses.join(' and ') : undefined;
  for await (const row of store.rows('findings', findingsRowSchema, filter)) rows.push(row);
  return rows;
}

export interface ScanState {
  checkpoint: Checkpoint | undefined;
  /** The run holding the lease, while it is unexpired. */
  leaseOwner: string | undefined;
  leaseExpiresAt: Date | undefined;
}

/** Where the scan stands: its checkpoint (phase, group) and whether a run holds the lease now. */
export async function scanState(store: AuditStore, nowMs = Date.now()): Promise<ScanState> {
  const rows = store.rows(
    'state',
    checkpointSchema
      .partial()
      .extend({ leaseOwner: z.string().optional(), leaseExpiresAt: z.date().optional() }),
    odata`PartitionKey eq ${STATE_PARTITION} and RowKey eq ${CHECKPOINT_ROW}`,
  );
  for await (const row of rows) {
    const checkpoint = checkpointSchema.safeParse(row);
    const held = row.leaseExpiresAt !== undefined && row.leaseExpiresAt.getTime() > nowMs;
    return {
      checkpoint: checkpoint.success ? checkpoint.data : undefined,
      leaseOwner: held ? row.leaseOwner : undefined,
      leaseExpiresAt: held ? row.leaseExpiresAt : undefined,
    };
  }
  return { checkpoint: undefined, leaseOwner: undefined, leaseExpiresAt: undefined };
}

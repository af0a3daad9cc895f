// The audit views the HTTP API and the CLI show, read through queries.ts. Before the first scan the tables do not
// exist: a view of a missing table is empty, not an error (reading never creates tables).
import { isStorageStatus } from '../../storage/errors';
import { encodePageToken } from '../../storage/page-token';
import type { EnrollmentKind } from '../rows/tables';
import { type AuditStore } from '../store';
import {
  findings,
  history,
  listProblems,
  recentScans,
  scanState,
  type PageRequest,
  type ProblemFilters,
} from './queries';
import {
  findingsView,
  historyView,
  problemView,
  scanRunView,
  scanStateView,
  type FindingsView,
  type HistoryView,
  type ProblemView,
  type ScanRunView,
  type ScanStateView,
} from './view-shapes';

async function orWhenTableMissing<T>(read: Promise<T>, empty: T): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (isStorageStatus(error, 404)) return empty;
    throw error;
  }
}

export interface ProblemsPage {
  items: ProblemView[];
  /** URL-safe; undefined on the last page. */
  continuationToken: string | undefined;
}

/** A page of problems. `page.continuationToken` is the table SDK's token (decodePageToken of a given-out one). */
export async function problemsPage(
  store: AuditStore,
  filters: ProblemFilters,
  page: PageRequest,
): Promise<ProblemsPage> {
  const result = await orWhenTableMissing(listProblems(store, filters, page), {
    items: [],
    continuationToken: undefined,
  });
  return {
    items: result.items.map(problemView),
    continuationToken:
      result.continuationToken === undefined ? undefined : encodePageToken(result.continuationToken),
  };
}

export async function registrationHistory(
  store: AuditStore,
  registrationId: string,
  options: { group?: string } = {},
): Promise<HistoryView[]> {
  return (await orWhenTableMissing(history(store, registrationId, options), [])).map(historyView);
}

export async function scanRuns(store: AuditStore, count: number): Promise<ScanRunView[]> {
  return (await orWhenTableMissing(recentScans(store, count), [])).map(scanRunView);
}

export async function scanStatus(store: AuditStore, nowMs = Date.now()): Promise<ScanStateView> {
  const empty = { checkpoint: undefined, leaseOwner: undefined, leaseExpiresAt: undefined };
  return scanStateView(await orWhenTableMissing(scanState(store, nowMs), empty));
}

export async function enrollmentFindings(
  store: AuditStore,
  options: { kind?: EnrollmentKind; onlyWithFindings?: boolean } = {},
): Promise<FindingsView[]> {
  return (await orWhenTableMissing(findings(store, options), [])).map(findingsView);
}

// Audit table rows for tests that seed the tables directly: a failed problem (fields override) and a history row.
import { historyRowKey, INDIVIDUAL_PARTITION } from '../../../src/audit/rows/keys';
import { idKey } from '../../../src/storage/keys';
import type { HistoryRow, ProblemRow } from '../../../src/audit/rows/tables';

/** An open `failed` 400207 problem of a group's device (or an individual enrollment's when `group` is undefined). */
export function problemRow(
  group: string | undefined,
  id: string,
  seen: { firstSeen: Date; lastSeen: Date },
  fields: Partial<ProblemRow> = {},
): ProblemRow {
  return {
    partitionKey: group === undefined ? INDIVIDUAL_PARTITION : idKey(group),
    rowKey: idKey(id),
    registrationId: id,
    enrollmentKind: group === undefined ? 'individual' : 'group',
    enrollmentId: group ?? id,
    status: 'failed',
    errorCode: 400207,
    errorExplanation: 'explained',
    source: 'registration-state',
    ...seen,
    open: true,
    historyStarted: false,
    lastScanId: 'scan-1',
    ...fields,
  };
}

/** The history row of `row`'s transition from `from` to `to` at `at`. */
export function historyRow(
  row: ProblemRow,
  from: string,
  to: string,
  at: number,
  fields: Partial<HistoryRow> = {},
): HistoryRow {
  return {
    partitionKey: row.partitionKey,
    rowKey: historyRowKey(row.rowKey, new Date(at), from, to),
    registrationId: row.registrationId,
    enrollmentKind: row.enrollmentKind,
    enrollmentId: row.enrollmentId,
    fromStatus: from,
    toStatus: to,
    at: new Date(at),
    scanId: 'scan-2',
    ...fields,
  };
}

// The audit's own keys: the partition of individual enrollments, history and scan-run row keys. Ids become keys
// through idKey (storage/keys.ts); `~` and `|` never occur in an escaped id, so they serve as markers here.
import { idKey } from '../../storage/keys';

/** PartitionKey of problems and history rows of individual enrollments; no escaped id starts with `~`. */
export const INDIVIDUAL_PARTITION = '~individual';

/** PartitionKey of devices DPS's resource logs show refused at attestation (no enrollment took them). */
export const ATTESTATION_PARTITION = '~attestation';

/** PartitionKey of a group's problems and history rows. */
export function groupPartition(enrollmentGroupId: string): string {
  return idKey(enrollmentGroupId);
}

/**
 * History RowKey: the registration's key, then when and what changed. `|` sorts after every character of an
 * escaped id, so one registration's rows are the range [key|, key}) and sort by time within it. Deterministic, so
 * a page replayed after a crash upserts the same row instead of adding one.
 */
export function historyRowKey(
  registrationKey: string,
  at: Date,
  fromStatus: string,
  toStatus: string,
): string {
  return `${registrationKey}|${at.toISOString()}|${fromStatus}>${toStatus}`;
}

/** The RowKey range [from, to) that holds one registration's history rows. */
export function historyRange(registrationKey: string): { from: string; to: string } {
  return { from: `${registrationKey}|`, to: `${registrationKey}}` };
}

const MAX_TIME = 9_999_999_999_999;

/** Scan-run RowKey: inverted time first, so the newest run is the first row of the partition. */
export function runRowKey(startedAtMs: number, runId: string): string {
  return `${String(MAX_TIME - startedAtMs).padStart(13, '0')}_${runId}`;
}

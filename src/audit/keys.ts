// Table keys. PartitionKey/RowKey may not hold / \ # ? or control characters (U+0000-U+001F, U+007F-U+009F) and
// are at most 1 KiB. DPS ids are case-insensitive and use [A-Za-z0-9-._:]: keys are the lower-cased id with
// every other character percent-encoded (UTF-8), `%` included, so the escaping is reversible and an id such as
// `a/b` never meets `a%2Fb`. `~` and `|` are always encoded too: the audit's own keys use them as markers.

const KEPT = /[A-Za-z0-9\-._:]/;
const MAX_KEY_LENGTH = 1024;

function percentEncode(character: string): string {
  return [...Buffer.from(character, 'utf8')]
    .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}

/** A table key for any string: characters outside [A-Za-z0-9-._:] percent-encoded. */
export function escapeKey(value: string): string {
  let escaped = '';
  for (const character of value) {
    escaped += KEPT.test(character) ? character : percentEncode(character);
  }
  if (escaped.length > MAX_KEY_LENGTH) {
    throw new RangeError(`A table key may be at most ${MAX_KEY_LENGTH} characters once escaped`);
  }
  return escaped;
}

/** The string escapeKey encoded. */
export function unescapeKey(key: string): string {
  return decodeURIComponent(key);
}

/** The key of a DPS id (registration or enrollment group id): case-insensitive, so lower-cased first. */
export function idKey(id: string): string {
  return escapeKey(id.toLowerCase());
}

/** PartitionKey of problems and history rows of individual enrollments; no escaped id starts with `~`. */
export const INDIVIDUAL_PARTITION = '~individual';

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

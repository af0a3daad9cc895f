// The decision table `${AUDIT_TABLE_PREFIX}Decisions`: one row per allocate decision. PartitionKey is the UTC day
// (`YYYY-MM-DD`), RowKey starts with the ISO time, so "the last hour" is one RowKey range over one or two
// partitions, read in time order. Rows hold what the decision was and why, never payload values, keys or URLs.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { DecisionLogRecord } from '../allocation/webhook';
import { idKey } from '../storage/keys';
import { tableName } from '../storage/table-names';
import { safeReason } from './reason';

export function decisionsTableName(prefix: string): string {
  return tableName(prefix, 'Decisions');
}

export const OUTCOMES = ['assigned', 'rejected', 'invalid-request'] as const;
export const outcomeSchema = z.enum(OUTCOMES);
export type DecisionOutcome = z.infer<typeof outcomeSchema>;

/** Every outcome, counted 0. */
export function zeroOutcomeCounts(): Record<DecisionOutcome, number> {
  return Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<DecisionOutcome, number>;
}

/** Read back with this schema: bookkeeping properties are dropped, a row edited out of shape is skipped. */
export const decisionRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  at: z.date(),
  /** Absent for an invalid request that named no registration. */
  registrationId: z.string().optional(),
  enrollmentKind: z.enum(['group', 'individual']).optional(),
  /** The enrollment group id, or the registration id of an individual enrollment. */
  enrollmentId: z.string().optional(),
  outcome: outcomeSchema,
  /** The HTTP status allocate answered (200 or 400). */
  status: z.number().int(),
  hub: z.string().optional(),
  rule: z.string().optional(),
  strategy: z.string().optional(),
  assignment: z.enum(['initial', 'reprovision']).optional(),
  /** Redacted (no payload values, no secrets), at most MAX_REASON_LENGTH characters. */
  reason: z.string(),
  /** Time the webhook took to decide (parse, validate, decide), not counting the decision log. */
  latencyMs: z.number(),
  candidateCount: z.number().int().min(0),
});
export type DecisionRow = z.infer<typeof decisionRowSchema>;

/** `2026-06-01T12:00:05.123Z` -> `2026-06-01`. */
export function dayPartition(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * `${ISO time}|${registration key}|${suffix}`: sorts by time; `|` sorts after every character of an ISO time, so
 * the rows at or after `t` are `RowKey ge t.toISOString()`. The suffix makes two decisions of one device in the
 * same millisecond two rows; it is fixed when the row is made, so a retried write upserts the same row.
 */
export function decisionRowKey(at: Date, registrationId: string | undefined, suffix: string): string {
  return `${at.toISOString()}|${registrationKey(registrationId)}|${suffix}`;
}

/** Room left in a 1 KiB key for the registration once the time and suffix are in. */
const MAX_REGISTRATION_KEY = 900;

/** The escaped lower-case id; `~` for none; a hash for an id whose escaped form would not fit (`~` is always escaped in ids). */
function registrationKey(registrationId: string | undefined): string {
  if (registrationId === undefined || registrationId === '') return '~';
  try {
    const key = idKey(registrationId);
    if (key.length <= MAX_REGISTRATION_KEY) return key;
  } catch {
    // longer than a table key: hashed below
  }
  return `~${createHash('sha256').update(registrationId.toLowerCase()).digest('hex')}`;
}

/** Unique within a process (a counter) and across instances (a random prefix per process). */
let counter = 0;
const processTag = randomBytes(4).toString('hex');
export function rowSuffix(): string {
  counter = (counter + 1) % 0x1000000;
  return `${processTag}${counter.toString(16).padStart(6, '0')}`;
}

/** DPS registration ids are at most 128 characters; anything longer is cut so that its key still fits. */
const MAX_ID_LENGTH = 256;

const clipId = (id: string | undefined): string | undefined =>
  id === undefined ? undefined : id.slice(0, MAX_ID_LENGTH);

/** The row of one decision, as the webhook logged it. */
export function decisionRowFrom(record: DecisionLogRecord, at: Date, suffix = rowSuffix()): DecisionRow {
  const registrationId = clipId(record.registrationId);
  const row: DecisionRow = {
    partitionKey: dayPartition(at),
    rowKey: decisionRowKey(at, registrationId, suffix),
    at,
    registrationId,
    enrollmentKind: record.enrollment?.kind,
    enrollmentId: clipId(record.enrollment?.id),
    outcome: record.outcome,
    status: record.status,
    hub: record.hub,
    rule: record.rule,
    strategy: record.strategy,
    assignment: record.assignment,
    reason: safeReason(record.reason),
    latencyMs: record.latencyMs,
    candidateCount: record.candidates?.length ?? 0,
  };
  // Table storage stores no undefined: leave absent properties out of the entity.
  for (const key of Object.keys(row) as (keyof DecisionRow)[]) if (row[key] === undefined) delete row[key];
  return row;
}

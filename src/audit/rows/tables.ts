// The audit's tables and the shape of their rows. Names are `${AUDIT_TABLE_PREFIX}${suffix}` (default prefix
// `Audit`); every time is an Edm.DateTime (a Date), every count an Edm.Int32, so Azure Storage Explorer shows them
// typed and OData can compare them.
import { z } from 'zod';
import { tableName } from '../../storage/table-names';

export interface AuditTableNames {
  /** Current problems: one row per problem device, kept (resolved) after it recovers. */
  problems: string;
  /** Append-only: one row per status transition of a problem device. */
  history: string;
  /** Per enrollment group (and individual enrollment with findings): configuration checks. */
  findings: string;
  /** One row per scan run. */
  scans: string;
  /** The checkpoint and lease of the scan (one row). */
  state: string;
}

export function auditTableNames(prefix: string): AuditTableNames {
  return {
    problems: tableName(prefix, 'Problems'),
    history: tableName(prefix, 'History'),
    findings: tableName(prefix, 'EnrollmentFindings'),
    scans: tableName(prefix, 'Scans'),
    state: tableName(prefix, 'State'),
  };
}

// Rows are parsed with these schemas when read back: unknown properties (etag, timestamp, odata.metadata) are
// dropped and a row edited into another shape by hand is treated as absent (and rewritten) instead of crashing.
const optionalString = z.string().optional();
const count = z.number().int().min(0);

/** `none`: a device DPS refused at attestation, before any enrollment took it (seen in DPS's resource logs). */
export const enrollmentKindSchema = z.enum(['group', 'individual', 'none']);
export type EnrollmentKind = z.infer<typeof enrollmentKindSchema>;

/**
 * Why a problem row was closed. `certificate-valid`: a device DPS refused for its enrollment's certificates is no
 * longer refused (the certificate was replaced, became valid, or the enrollment stopped using X.509). `attested`:
 * a device DPS's logs showed refused at attestation passed it later.
 */
export const resolutionSchema = z.enum([
  'assigned',
  'deleted',
  'enrollment-deleted',
  'certificate-valid',
  'attested',
]);
export type Resolution = z.infer<typeof resolutionSchema>;

/**
 * Where a problem was seen: DPS's registration state; the enrollment's certificates (DPS refuses the device at
 * attestation and keeps no registration state for it); or DPS's DeviceOperations resource logs, which record
 * every refused attestation (docs/dps-contract.md §4.4).
 */
export const problemSourceSchema = z.enum([
  'registration-state',
  'enrollment-certificate',
  'attestation-log',
]);
export type ProblemSource = z.infer<typeof problemSourceSchema>;

/**
 * PartitionKey: the escaped lower-case group id, or `~individual`. RowKey: the escaped lower-case registration id.
 */
export const problemRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  registrationId: z.string(),
  enrollmentKind: enrollmentKindSchema,
  /** The group id, the registration id of an individual enrollment, or empty (`none`). */
  enrollmentId: z.string(),
  /** The problem status (`failed`, `unassigned`, `disabled`, `assigning`); kept once resolved. */
  status: z.string(),
  substatus: optionalString,
  errorCode: z.number().int().optional(),
  /** Redacted, at most 4,000 characters. */
  errorMessage: optionalString,
  errorExplanation: z.string(),
  /** Rows written before the certificate check have none: they were all seen on registration states. */
  source: problemSourceSchema.default('registration-state'),
  assignedHub: optionalString,
  deviceId: optionalString,
  /** DPS's lastUpdatedDateTimeUtc of the registration state the row was last written from. */
  dpsLastUpdated: z.date().optional(),
  /** When the audit first saw this problem (a reopened problem starts again). */
  firstSeen: z.date(),
  /** When a scan last saw the problem; refreshed on every write, else at most every AUDIT_LAST_SEEN_REFRESH_HOURS. */
  lastSeen: z.date(),
  /** False once resolved: the property OData filters on (an absent resolvedAt cannot be filtered). */
  open: z.boolean(),
  /**
   * Whether the history holds this problem's first sighting: always for rows written now; rows of earlier versions,
   * which wrote it with the problem's first change, get it with their next transition (and views build it meanwhile).
   */
  historyStarted: z.boolean().default(false),
  resolvedAt: z.date().optional(),
  resolution: resolutionSchema.optional(),
  lastScanId: z.string(),
});
export type ProblemRow = z.infer<typeof problemRowSchema>;

/** PartitionKey: as ProblemRow. RowKey: `${registration key}|${at ISO}|${from}>${to}` (see keys.ts). */
export const historyRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  registrationId: z.string(),
  enrollmentKind: enrollmentKindSchema,
  enrollmentId: z.string(),
  /**
   * The previous status: `none` for the first sighting (written with the new problem row), the resolution
   * (`assigned`, `deleted`) for a reopened problem.
   */
  fromStatus: z.string(),
  /** The new status, or the resolution (`assigned`, `deleted`, `enrollment-deleted`, `certificate-valid`). */
  toStatus: z.string(),
  errorCode: z.number().int().optional(),
  errorMessage: optionalString,
  /** DPS's lastUpdatedDateTimeUtc when known, else the start of the scan that saw the change. */
  at: z.date(),
  scanId: z.string(),
});
export type HistoryRow = z.infer<typeof historyRowSchema>;

export const findingSchema = z.object({
  code: z.enum([
    'allocation-not-custom',
    'webhook-elsewhere',
    'webhook-without-key',
    'webhook-invalid-url',
    'enrollment-disabled',
    'certificate-expired',
    'certificate-not-yet-valid',
    'certificate-expiring',
  ]),
  message: z.string(),
});
export type Finding = z.infer<typeof findingSchema>;

/**
 * PartitionKey `group` | `individual`; RowKey the escaped lower-case enrollment id. Every group has a row; an
 * individual enrollment only while it has findings (there may be a million of them).
 */
export const findingsRowSchema = z.object({
  partitionKey: z.enum(['group', 'individual']),
  rowKey: z.string(),
  enrollmentId: z.string(),
  allocationPolicy: z.string(),
  provisioningStatus: z.string(),
  /** Scheme, host and path only: never the query (`code=`). */
  webhook: optionalString,
  /** JSON array of Finding. */
  findings: z.string(),
  findingCount: count,
  /** When the checks' result last changed. */
  lastChanged: z.date(),
  lastSeen: z.date(),
});
export type FindingsRow = z.infer<typeof findingsRowSchema>;

export const runOutcomeSchema = z.enum(['completed', 'resumable', 'skipped', 'failed']);
export type RunOutcome = z.infer<typeof runOutcomeSchema>;

/** PartitionKey `runs`; RowKey the inverted start time and the run id (newest first). */
export const scanRunRowSchema = z.object({
  partitionKey: z.literal('runs'),
  rowKey: z.string(),
  runId: z.string(),
  /** A scan may take several runs; they share its id. */
  scanId: optionalString,
  startedAt: z.date(),
  endedAt: z.date(),
  durationMs: count,
  /** completed: the scan finished; resumable: a budget ran out and the next run goes on from the checkpoint. */
  outcome: runOutcomeSchema,
  /** Why a run failed, ended early or was skipped (redacted). */
  detail: optionalString,
  enrollmentGroupsRead: count,
  individualEnrollmentsRead: count,
  registrationsRead: count,
  /** Problem registrations read in this run (new or not). */
  problemsSeen: count,
  /** Problems new or reopened in this run. */
  problemsFound: count,
  /** JSON object of problemsFound by status, e.g. `{"failed":2}` (rows of earlier versions have none). */
  problemsFoundByStatus: optionalString,
  /** JSON object of problemsFound by DPS error code, `none` for problems without one: `{"400209":2,"none":1}`. */
  problemsFoundByErrorCode: optionalString,
  problemsResolved: count,
  /** Open problem rows when the run ended; absent when they could not be counted. */
  openProblems: count.optional(),
  entitiesWritten: count,
  dpsOperations: count,
  throttled429: count,
  dpsRetries: count,
  /** Where the next run resumes (phase and group id; the continuation token stays in the state table). */
  resumeFrom: optionalString,
});
export type ScanRunRow = z.infer<typeof scanRunRowSchema>;

export const RUNS_PARTITION = 'runs';
export const STATE_PARTITION = 'state';
export const CHECKPOINT_ROW = 'checkpoint';
/** Where the reading of DPS's archived resource logs stands (state partition). */
export const ATTESTATION_LOG_ROW = 'attestation-log';

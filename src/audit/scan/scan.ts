// One audit scan run: take the lease, go on from the checkpoint within the run's budgets, save the checkpoint,
// give the lease back and record the run. A scan may take several runs (outcome `resumable`); a run that finds
// the lease held by another is `skipped`.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { odata } from '@azure/data-tables';
import type { DpsClient, DpsClientStats } from '../../dps/client';
import { systemClock, type Clock } from '../../dps/clock';
import { DpsThrottledError, DpsTransientError } from '../../dps/errors';
import { redactSecrets } from '../../dps/redact';
import { isStorageStatus } from '../../storage/errors';
import { runRowKey } from '../rows/keys';
import { RUNS_PARTITION, type RunOutcome, type ScanRunRow } from '../rows/tables';
import type { EventPublisher } from '../../events';
import type { AuditStore } from '../store';
import { RunBudget } from './budget';
import { DEFAULT_CERTIFICATE_EXPIRY_WARNING_DAYS } from './certificate-validity';
import type { AttestationLogSource } from './attestation-log-pass';
import { LeaseLostError, ScanLease } from './checkpoint';
import { ScanCursor } from './scan-cursor';
import { ScanRun, type RunCounters, type ScanProgress, type ScanRunContext } from './scan-run';

export type { ScanProgress } from './scan-run';

export interface ScanOptions {
  /** The run stops sending DPS calls after this long (AUDIT_TIME_BUDGET_SECONDS). */
  timeBudgetMs: number;
  /** The run stops before sending more DPS operations than this (AUDIT_MAX_OPERATIONS_PER_RUN). */
  maxOperationsPerRun: number;
  /** x-ms-max-item-count of every query (AUDIT_PAGE_SIZE). */
  pageSize: number;
  assigningGraceMinutes: number;
  lastSeenRefreshHours: number;
  /** The allocate URL enrollments should call; the check is skipped when unknown. */
  expectedWebhookUrl?: string;
  /** Certificates expiring within this many days are findings (AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS); default 30. */
  certificateExpiryWarningDays?: number;
  /** The lease lasts the time budget plus this; default 30 s. */
  leaseMarginMs?: number;
  /** The checkpoint is saved at most this often while pages go by (and always when the run stops); default 2 s. */
  checkpointIntervalMs?: number;
  /** Registration-state lookups in flight for individual enrollments; default 8. */
  lookupConcurrency?: number;
  clock?: Clock;
  /** Aborting stops the run at once, as a crash would: no checkpoint, no lease release, no run row. */
  signal?: AbortSignal;
  /**
   * Aborting ends the run at the next page, as a spent budget would: the writes of the pages read are finished,
   * the checkpoint saved, the lease released and the run recorded as `resumable`.
   */
  stopSignal?: AbortSignal;
  onProgress?: (progress: ScanProgress) => void | Promise<void>;
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Publishes the lifecycle events of what the scan writes (docs/events.md); default none. */
  events?: EventPublisher;
}

export interface ScanDependencies {
  dps: DpsClient;
  store: AuditStore;
  /** DPS's archived DeviceOperations logs (AUDIT_DPS_LOGS_CONTAINER); undefined: not read. */
  attestationLog?: AttestationLogSource;
}

/** Errors after which the next run can simply go on: DPS throttling or unavailability, the run's deadline. */
function isResumable(error: unknown, deadline: AbortSignal): boolean {
  return error instanceof DpsThrottledError || error instanceof DpsTransientError || deadline.aborted;
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactSecrets(text).slice(0, 1000);
}

function newCounters(): RunCounters {
  return {
    enrollmentGroupsRead: 0,
    individualEnrollmentsRead: 0,
    registrationsRead: 0,
    problemsSeen: 0,
    problemsFound: 0,
    problemsFoundByStatus: new Map(),
    problemsFoundByErrorCode: new Map(),
    problemsResolved: 0,
  };
}

interface RunResult {
  outcome: RunOutcome;
  detail: string | undefined;
  /** Another run holds the lease now: this one must not write, not even its checkpoint. */
  leaseLost?: true;
}

/** What one invocation works with, fixed when it starts. */
interface Invocation {
  deps: ScanDependencies;
  options: ScanOptions;
  runId: string;
  startedAtMs: number;
  now: () => number;
  log: (level: 'info' | 'warn', message: string) => void;
  dpsBefore: DpsClientStats;
  writtenBefore: number;
  counters: RunCounters;
  /** Aborts DPS calls: the caller's signal, or the run's deadline (the time budget and a margin). */
  signal: AbortSignal;
  deadline: AbortSignal;
}

/** Runs one scan invocation and returns its scan-run row (also written to the scans table when storage allows). */
export async function runScan(deps: ScanDependencies, options: ScanOptions): Promise<ScanRunRow> {
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const startedAtMs = now();
  const deadline = new AbortController();
  const deadlineTimer = setTimeout(() => deadline.abort(), options.timeBudgetMs + 5_000);
  deadlineTimer.unref();
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  // Every DPS request in flight listens on it (lookups run in parallel): more than Node's default warning level.
  setMaxListeners(64, signal);
  const invocation: Invocation = {
    deps,
    options,
    runId: randomUUID(),
    startedAtMs,
    now,
    log: options.log ?? (() => undefined),
    dpsBefore: deps.dps.stats(),
    writtenBefore: deps.store.entitiesWritten,
    counters: newCounters(),
    signal,
    deadline: deadline.signal,
  };
  let result: RunResult;
  let cursor: ScanCursor | undefined;
  try {
    await deps.store.ensureTables();
    const taken = await takeLease(invocation);
    if (!taken.acquired) {
      result = {
        outcome: 'skipped',
        detail: `The scan lease is held by ${taken.holder} until ${taken.expiresAt.toISOString()}.`,
      };
    } else {
      cursor = ScanCursor.resume(taken.checkpoint, startedAtMs);
      const scanned = await scanUnderLease(invocation, taken.lease, cursor);
      result = await releaseLease(invocation, taken.lease, cursor, scanned);
    }
  } catch (error) {
    if (options.signal?.aborted) throw error;
    result = { outcome: 'failed', detail: describe(error) };
  } finally {
    clearTimeout(deadlineTimer);
  }
  const row = runRow(invocation, result, cursor);
  row.openProblems = await countOpenProblems(invocation);
  await recordRun(invocation, row);
  return row;
}

/** The lease lasts the time budget and a margin: a run that dies holds it no longer than that. */
function takeLease({ deps, options, runId, startedAtMs, now }: Invocation) {
  const leaseExpiresAt = new Date(startedAtMs + options.timeBudgetMs + (options.leaseMarginMs ?? 30_000));
  return ScanLease.acquire(deps.store, runId, leaseExpiresAt, now);
}

/** Scans from the cursor within the run's budgets; what stopped it is the run's outcome. */
async function scanUnderLease(
  invocation: Invocation,
  lease: ScanLease,
  cursor: ScanCursor,
): Promise<RunResult> {
  const run = new ScanRun(runContext(invocation, lease, cursor));
  try {
    return stoppedOutcome(await run.execute(), run.pagesRead, invocation.options);
  } catch (error) {
    if (invocation.options.signal?.aborted) throw error;
    return failedOutcome(error, run.pagesRead, invocation.deadline);
  }
}

function runContext(invocation: Invocation, lease: ScanLease, cursor: ScanCursor): ScanRunContext {
  const { deps, options, now, startedAtMs, dpsBefore } = invocation;
  const { dps, store } = deps;
  const refreshMs = options.lastSeenRefreshHours * 3_600_000;
  return {
    dps,
    store,
    lease,
    cursor,
    budget: new RunBudget({
      startedAtMs,
      timeBudgetMs: options.timeBudgetMs,
      maxOperations: options.maxOperationsPerRun,
      operationsUsed: () => dps.stats().operations - dpsBefore.operations,
      now,
      stopRequested: () => options.stopSignal?.aborted === true,
      admissionDelayMs: () => dps.admissionDelayMs(),
    }),
    counters: invocation.counters,
    runId: invocation.runId,
    pageSize: options.pageSize,
    assigningGraceMs: options.assigningGraceMinutes * 60_000,
    lookupConcurrency: options.lookupConcurrency ?? 8,
    checkpointIntervalMs: options.checkpointIntervalMs ?? 2_000,
    passSettings: {
      scanId: cursor.scanId,
      scanStartedAt: cursor.scanStartedAt,
      now,
      assigningGraceMinutes: options.assigningGraceMinutes,
      lastSeenRefreshMs: refreshMs,
    },
    findingsSettings: {
      expectedWebhookUrl: options.expectedWebhookUrl,
      certificateExpiryWarningMs:
        (options.certificateExpiryWarningDays ?? DEFAULT_CERTIFICATE_EXPIRY_WARNING_DAYS) * 86_400_000,
      lastSeenRefreshMs: refreshMs,
      now,
    },
    attestationLog: deps.attestationLog,
    signal: invocation.signal,
    crashSignal: options.signal,
    now,
    onProgress: options.onProgress,
    log: invocation.log,
    events: options.events,
  };
}

/** A run that ended by itself: complete, or stopped early by a budget. */
function stoppedOutcome(stop: string | undefined, pagesRead: number, options: ScanOptions): RunResult {
  if (!stop) return { outcome: 'completed', detail: undefined };
  if (pagesRead === 0 && /operations/.test(stop)) {
    // Every run would stop at the same place: say so instead of resuming forever.
    return {
      outcome: 'failed',
      detail: `No progress: ${options.maxOperationsPerRun} DPS operations per run do not cover listing the enrollment groups and one page (raise AUDIT_MAX_OPERATIONS_PER_RUN).`,
    };
  }
  return { outcome: 'resumable', detail: `Stopped early: ${stop}.` };
}

/** A run that an error ended: resumable when the next run can simply go on. */
function failedOutcome(error: unknown, pagesRead: number, deadline: AbortSignal): RunResult {
  if (error instanceof LeaseLostError) return { outcome: 'failed', detail: describe(error), leaseLost: true };
  const resumable = isResumable(error, deadline);
  if (resumable && pagesRead === 0 && error instanceof DpsTransientError) {
    // Not one page read: a wrong DPS host or a DPS outage must show as a failure, not as runs that resume.
    return {
      outcome: 'failed',
      detail: `No progress: DPS failed before one page was read. ${describe(error)}`,
    };
  }
  return { outcome: resumable ? 'resumable' : 'failed', detail: describe(error) };
}

/**
 * Saves the checkpoint and gives the lease back. The checkpoint only holds positions whose writes are done, so it
 * is saved whatever stopped the run; a run whose lease was lost writes nothing more.
 */
async function releaseLease(
  { log }: Invocation,
  lease: ScanLease,
  cursor: ScanCursor,
  result: RunResult,
): Promise<RunResult> {
  if (result.leaseLost) return result;
  try {
    await lease.release(cursor.checkpoint());
    return result;
  } catch (error) {
    log('warn', `Could not save the audit checkpoint: ${describe(error)}`);
    return result.outcome === 'failed' ? result : { outcome: 'failed', detail: describe(error) };
  }
}

/** The scans table's row of this run. */
function runRow(invocation: Invocation, result: RunResult, cursor: ScanCursor | undefined): ScanRunRow {
  const { deps, runId, startedAtMs, now, dpsBefore, writtenBefore } = invocation;
  const { problemsFoundByStatus, problemsFoundByErrorCode, ...counters } = invocation.counters;
  const endedAtMs = now();
  const dpsAfter = deps.dps.stats();
  return {
    partitionKey: RUNS_PARTITION,
    rowKey: runRowKey(startedAtMs, runId),
    runId,
    scanId: cursor?.scanId,
    startedAt: new Date(startedAtMs),
    endedAt: new Date(endedAtMs),
    durationMs: Math.max(0, endedAtMs - startedAtMs),
    outcome: result.outcome,
    detail: result.detail,
    ...counters,
    problemsFoundByStatus: JSON.stringify(Object.fromEntries(problemsFoundByStatus)),
    problemsFoundByErrorCode: JSON.stringify(Object.fromEntries(problemsFoundByErrorCode)),
    entitiesWritten: deps.store.entitiesWritten - writtenBefore,
    dpsOperations: dpsAfter.operations - dpsBefore.operations,
    throttled429: dpsAfter.throttled - dpsBefore.throttled,
    dpsRetries: dpsAfter.retries - dpsBefore.retries,
    resumeFrom: result.outcome === 'resumable' ? cursor?.describe() : undefined,
  };
}

/**
 * The open problem rows after the run, for the run's row and log line: the filter problemSummary counts
 * (src/audit/read/overview.ts), PartitionKey only. Table storage has no index on `open`, so this is a scan of the
 * problems table on the server, one request per 1,000 rows; the table has a row per problem device (open or
 * resolved), not per device. Undefined when storage does not answer.
 */
async function countOpenProblems({ deps, log }: Invocation): Promise<number | undefined> {
  const { store } = deps;
  const pages = store
    .client('problems')
    .listEntities({ queryOptions: { filter: odata`open eq ${true}`, select: ['PartitionKey'] } })
    .byPage({ maxPageSize: 1000 });
  let open = 0;
  try {
    for (;;) {
      const page = await store.call('listEntities', 'problems', () => pages.next());
      if (page.done) return open;
      open += page.value.length;
    }
  } catch (error) {
    if (isStorageStatus(error, 404)) return 0; // no problems table yet
    log('warn', `Could not count the open problems: ${describe(error)}`);
    return undefined;
  }
}

/** The run's row; a run that cannot record itself still returns it (and the timer's log line has it). */
async function recordRun({ deps, log }: Invocation, row: ScanRunRow): Promise<void> {
  try {
    await deps.store.upsert('scans', [row]);
  } catch (error) {
    log('warn', `Could not record the audit run: ${describe(error)}`);
  }
}

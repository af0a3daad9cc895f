// One audit scan run: take the lease, go on from the checkpoint within the run's budgets, save the checkpoint,
// give the lease back and record the run. A scan may take several runs (outcome `resumable`); a run that finds
// the lease held by another is `skipped`.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { DpsClient } from '../dps/client';
import { systemClock, type Clock } from '../dps/clock';
import { DpsThrottledError, DpsTransientError } from '../dps/errors';
import { redactSecrets } from '../dps/redact';
import { RunBudget } from './budget';
import { LeaseLostError, ScanLease, type Checkpoint } from './checkpoint';
import { runRowKey } from './keys';
import { ScanRun, type RunCounters, type ScanProgress } from './scan-run';
import type { AuditStore } from './store';
import { RUNS_PARTITION, type RunOutcome, type ScanRunRow } from './tables';

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
}

export interface ScanDependencies {
  dps: DpsClient;
  store: AuditStore;
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
    problemsResolved: 0,
  };
}

function newCheckpoint(nowMs: number): Checkpoint {
  return { scanId: randomUUID(), scanStartedAt: new Date(nowMs), phase: 'groups', runs: 0 };
}

function resumeFrom(checkpoint: Checkpoint): string | undefined {
  if (checkpoint.phase === 'done') return undefined;
  if (checkpoint.phase === 'individuals') return 'individual enrollments';
  return checkpoint.groupKey === undefined ? 'enrollment groups' : `enrollment group ${checkpoint.groupKey}`;
}

/** Runs one scan invocation and returns its scan-run row (also written to the scans table when storage allows). */
export async function runScan(deps: ScanDependencies, options: ScanOptions): Promise<ScanRunRow> {
  const { dps, store } = deps;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const log = options.log ?? (() => undefined);
  const runId = randomUUID();
  const startedAtMs = now();
  const dpsBefore = dps.stats();
  const writtenBefore = store.entitiesWritten;
  const counters = newCounters();
  let outcome: RunOutcome = 'failed';
  let detail: string | undefined;
  let checkpoint: Checkpoint | undefined;

  const deadline = new AbortController();
  const deadlineTimer = setTimeout(() => deadline.abort(), options.timeBudgetMs + 5_000);
  deadlineTimer.unref();
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  // Every DPS request in flight listens on it (lookups run in parallel): more than Node's default warning level.
  setMaxListeners(64, signal);

  try {
    await store.ensureTables();
    const leaseExpiresAt = new Date(startedAtMs + options.timeBudgetMs + (options.leaseMarginMs ?? 30_000));
    const taken = await ScanLease.acquire(store, runId, leaseExpiresAt, now);
    if (!taken.acquired) {
      outcome = 'skipped';
      detail = `The scan lease is held by ${taken.holder} until ${taken.expiresAt.toISOString()}.`;
    } else {
      checkpoint =
        taken.checkpoint?.phase === 'done' || !taken.checkpoint
          ? newCheckpoint(startedAtMs)
          : taken.checkpoint;
      checkpoint.runs++;
      ({ outcome, detail } = await execute(taken.lease, checkpoint));
    }
  } catch (error) {
    if (options.signal?.aborted) throw error;
    detail = describe(error);
  } finally {
    clearTimeout(deadlineTimer);
  }

  async function execute(
    lease: ScanLease,
    state: Checkpoint,
  ): Promise<{ outcome: RunOutcome; detail: string | undefined }> {
    const refreshMs = options.lastSeenRefreshHours * 3_600_000;
    const run = new ScanRun({
      dps,
      store,
      lease,
      checkpoint: state,
      budget: new RunBudget({
        startedAtMs,
        timeBudgetMs: options.timeBudgetMs,
        maxOperations: options.maxOperationsPerRun,
        operationsUsed: () => dps.stats().operations - dpsBefore.operations,
        now,
        stopRequested: () => options.stopSignal?.aborted === true,
        admissionDelayMs: () => dps.admissionDelayMs(),
      }),
      counters,
      runId,
      pageSize: options.pageSize,
      assigningGraceMs: options.assigningGraceMinutes * 60_000,
      lookupConcurrency: options.lookupConcurrency ?? 8,
      checkpointIntervalMs: options.checkpointIntervalMs ?? 2_000,
      passSettings: {
        scanId: state.scanId,
        scanStartedAt: state.scanStartedAt,
        now,
        assigningGraceMinutes: options.assigningGraceMinutes,
        lastSeenRefreshMs: refreshMs,
      },
      findingsSettings: { expectedWebhookUrl: options.expectedWebhookUrl, lastSeenRefreshMs: refreshMs, now },
      signal,
      crashSignal: options.signal,
      now,
      onProgress: options.onProgress,
      log,
    });
    let result: { outcome: RunOutcome; detail: string | undefined };
    try {
      const stop = await run.execute();
      result = stop
        ? { outcome: 'resumable', detail: `Stopped early: ${stop}.` }
        : { outcome: 'completed', detail: undefined };
      if (stop && run.pagesRead === 0 && /operations/.test(stop)) {
        // Every run would stop at the same place: say so instead of resuming forever.
        result = {
          outcome: 'failed',
          detail: `No progress: ${options.maxOperationsPerRun} DPS operations per run do not cover listing the enrollment groups and one page (raise AUDIT_MAX_OPERATIONS_PER_RUN).`,
        };
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (error instanceof LeaseLostError) return { outcome: 'failed', detail: describe(error) };
      const resumable = isResumable(error, deadline.signal);
      result =
        resumable && run.pagesRead === 0 && error instanceof DpsTransientError
          ? // Not one page read: a wrong DPS host or a DPS outage must show as a failure, not as runs that resume.
            {
              outcome: 'failed',
              detail: `No progress: DPS failed before one page was read. ${describe(error)}`,
            }
          : { outcome: resumable ? 'resumable' : 'failed', detail: describe(error) };
    }
    // The checkpoint only holds positions whose writes are done, so it is saved whatever stopped the run.
    try {
      await lease.release(state);
    } catch (error) {
      log('warn', `Could not save the audit checkpoint: ${describe(error)}`);
      if (result.outcome !== 'failed') result = { outcome: 'failed', detail: describe(error) };
    }
    return result;
  }

  const endedAtMs = now();
  const dpsAfter = dps.stats();
  const row: ScanRunRow = {
    partitionKey: RUNS_PARTITION,
    rowKey: runRowKey(startedAtMs, runId),
    runId,
    scanId: checkpoint?.scanId,
    startedAt: new Date(startedAtMs),
    endedAt: new Date(endedAtMs),
    durationMs: Math.max(0, endedAtMs - startedAtMs),
    outcome,
    detail,
    ...counters,
    entitiesWritten: store.entitiesWritten - writtenBefore,
    dpsOperations: dpsAfter.operations - dpsBefore.operations,
    throttled429: dpsAfter.throttled - dpsBefore.throttled,
    dpsRetries: dpsAfter.retries - dpsBefore.retries,
    resumeFrom: outcome === 'resumable' && checkpoint ? resumeFrom(checkpoint) : undefined,
  };
  try {
    await store.upsert('scans', [row]);
  } catch (error) {
    log('warn', `Could not record the audit run: ${describe(error)}`);
  }
  return row;
}

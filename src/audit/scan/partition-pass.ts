// One pass over one partition of the problems table (an enrollment group's devices, or the individual
// enrollments): the partition's stored rows are loaded once, each page of registration states is diffed against
// them, and at the end the open problems the pass did not see are resolved as gone.
import { odata } from '@azure/data-tables';
import { idKey } from '../../storage/keys';
import {
  diffProblem,
  type GoneResolution,
  type Observation,
  type RowChange,
  type RowContext,
} from '../rows/problems';
import { problemRowSchema, type EnrollmentKind, type ProblemRow } from '../rows/tables';
import type { AuditStore } from '../store';

export interface PassSettings {
  scanId: string;
  scanStartedAt: Date;
  now: () => number;
  assigningGraceMinutes: number;
  lastSeenRefreshMs: number;
}

/** What a run counts; reported in its scan-run row and its log line (run-log-line.ts). */
export interface ProblemCounters {
  registrationsRead: number;
  problemsSeen: number;
  problemsFound: number;
  /** problemsFound by the problem's status. */
  problemsFoundByStatus: Map<string, number>;
  /** problemsFound by DPS error code; `none` for problems without one (unassigned, disabled, assigning). */
  problemsFoundByErrorCode: Map<string, number>;
  problemsResolved: number;
}

/** The key of a problem without a DPS error code in problemsFoundByErrorCode. */
export const NO_ERROR_CODE = 'none';

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export interface ObservedRegistration {
  registrationId: string;
  observation: Observation;
  /** Whether DPS returned a registration state; default: unless the observation is `gone`. */
  stateRead?: boolean;
}

export class PartitionPass {
  /** Keys of stored rows seen in this pass (rows only: healthy devices without a row cost no memory). */
  private readonly seen = new Set<string>();

  private constructor(
    readonly partitionKey: string,
    private readonly enrollmentKind: EnrollmentKind,
    /** The group id, or undefined for individual enrollments (their enrollment id is the registration id). */
    private readonly enrollmentGroupId: string | undefined,
    private readonly rows: Map<string, ProblemRow>,
    private readonly settings: PassSettings,
    private readonly counters: ProblemCounters,
  ) {}

  /** Loads the partition's rows (one partition query). */
  static async load(
    store: AuditStore,
    partitionKey: string,
    enrollmentGroupId: string | undefined,
    settings: PassSettings,
    counters: ProblemCounters,
    kind: EnrollmentKind = enrollmentGroupId === undefined ? 'individual' : 'group',
  ): Promise<PartitionPass> {
    const rows = await store.rowMap('problems', problemRowSchema, odata`PartitionKey eq ${partitionKey}`);
    return new PartitionPass(partitionKey, kind, enrollmentGroupId, rows, settings, counters);
  }

  private context(rowKey: string, registrationId: string, enrollmentId: string): RowContext {
    const { scanId, scanStartedAt, now, assigningGraceMinutes, lastSeenRefreshMs } = this.settings;
    return {
      partitionKey: this.partitionKey,
      rowKey,
      registrationId,
      enrollmentKind: this.enrollmentKind,
      enrollmentId,
      scanId,
      scanStartedAt,
      now: new Date(now()),
      lastSeenRefreshMs,
      assigningGraceMinutes,
    };
  }

  private apply(rowKey: string, change: RowChange | undefined): void {
    if (!change) return;
    this.rows.set(rowKey, change.problem);
    if (change.kind === 'new' || change.kind === 'reopened') {
      const { status, errorCode } = change.problem;
      this.counters.problemsFound++;
      increment(this.counters.problemsFoundByStatus, status);
      increment(
        this.counters.problemsFoundByErrorCode,
        errorCode === undefined ? NO_ERROR_CODE : String(errorCode),
      );
    }
    if (change.kind === 'resolved') this.counters.problemsResolved++;
  }

  /** The writes one page calls for; the in-memory rows move on at once, so the next page diffs against them. */
  observe(items: readonly ObservedRegistration[]): RowChange[] {
    const changes: RowChange[] = [];
    for (const { registrationId, observation, stateRead } of items) {
      if (stateRead ?? observation.kind !== 'gone') this.counters.registrationsRead++;
      if (observation.kind === 'problem') this.counters.problemsSeen++;
      const rowKey = idKey(registrationId);
      const enrollmentId = this.enrollmentGroupId ?? (this.enrollmentKind === 'none' ? '' : registrationId);
      const change = diffProblem(
        this.rows.get(rowKey),
        observation,
        this.context(rowKey, registrationId, enrollmentId),
      );
      this.apply(rowKey, change);
      if (change) changes.push(change);
      if (this.rows.has(rowKey)) this.seen.add(rowKey);
    }
    return changes;
  }

  /**
   * Resolves the open problems this pass did not see. When the whole pass ran in this run, an unseen device is
   * gone. When it spanned runs (resumed from a checkpoint), the rows seen by the earlier runs are not known here;
   * lastSeen tells them apart at no DPS cost: a device seen during this scan has lastSeen within
   * lastSeenRefresh of the scan's start (it is rewritten once older), so an older lastSeen means not seen.
   * Unseen devices with a recent lastSeen are resolved by a later scan.
   */
  finish(spanned: boolean, resolution: GoneResolution): RowChange[] {
    const oldestSeen = this.settings.scanStartedAt.getTime() - this.settings.lastSeenRefreshMs;
    const changes: RowChange[] = [];
    for (const [rowKey, row] of this.rows) {
      if (!row.open || this.seen.has(rowKey)) continue;
      if (spanned && row.lastSeen.getTime() >= oldestSeen) continue;
      const change = diffProblem(
        row,
        { kind: 'gone', resolution },
        this.context(rowKey, row.registrationId, row.enrollmentId),
      );
      this.apply(rowKey, change);
      if (change) changes.push(change);
    }
    return changes;
  }
}

/**
 * Writes a page's changes: history rows first, so that a crash in between cannot lose a transition. Once both are
 * written, `publish` gets the changes (their lifecycle events); a write that throws publishes nothing: the replay
 * of the page builds the same rows, and so the same events, again.
 */
export async function writeChanges(
  store: AuditStore,
  changes: readonly RowChange[],
  beforeWrite: () => void,
  publish?: (changes: readonly RowChange[]) => void,
): Promise<void> {
  if (changes.length === 0) return;
  beforeWrite();
  await store.upsert(
    'history',
    changes.flatMap((change) => change.history),
  );
  beforeWrite();
  await store.upsert(
    'problems',
    changes.map((change) => change.problem),
  );
  publish?.(changes);
}

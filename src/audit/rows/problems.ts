// Pure problem logic: what a registration state means (a problem, healthy, or still in progress), and which
// rows a scan must write given the stored row, so that an unchanged registration costs no write.
import { redactSecrets } from '../../dps/redact';
import type { DeviceRegistrationState } from '../../dps/schemas';
import { explainProblem } from './error-codes';
import { historyRowKey } from './keys';
import type { EnrollmentKind, HistoryRow, ProblemRow, ProblemSource, Resolution } from './tables';

export const PROBLEM_STATUSES = ['failed', 'unassigned', 'disabled', 'assigning'] as const;
export type ProblemStatus = (typeof PROBLEM_STATUSES)[number];

const MAX_ERROR_MESSAGE = 4000;

/** Why a device the pass no longer sees is closed (`certificate-valid` is decided from the stored row). */
export type GoneResolution = Exclude<Resolution, 'assigned' | 'certificate-valid'>;

/** What the registration looks like now. */
export type Observation =
  | {
      kind: 'problem';
      status: ProblemStatus;
      substatus?: string;
      errorCode?: number;
      errorMessage?: string;
      assignedHub?: string;
      deviceId?: string;
      dpsLastUpdated?: Date;
      /** Default `registration-state`. */
      source?: ProblemSource;
      /** Says more than the error code's explanation (a refused certificate: which one, since when). */
      explanation?: string;
    }
  | { kind: 'assigned'; assignedHub?: string; deviceId?: string; dpsLastUpdated?: Date }
  /** Assigning within the grace period, or no status: neither a problem nor a recovery. */
  | { kind: 'pending' }
  /** No longer in DPS (`deleted`: no registration state). */
  | { kind: 'gone'; resolution: GoneResolution };

function parseDate(value: string | null | undefined): Date | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

const present = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

/** Redacted and bounded: DPS messages may quote a webhook URL with its `code=`. */
export function storedErrorMessage(message: string | null | undefined): string | undefined {
  if (!message) return undefined;
  return redactSecrets(message).slice(0, MAX_ERROR_MESSAGE);
}

/**
 * Classifies a registration state. Problems: failed, unassigned, disabled, and assigning for longer than the grace
 * period (by DPS's lastUpdatedDateTimeUtc; an assigning state without a time counts as stuck).
 */
export function observeRegistration(
  state: DeviceRegistrationState,
  nowMs: number,
  assigningGraceMs: number,
): Observation {
  const dpsLastUpdated = parseDate(state.lastUpdatedDateTimeUtc);
  const status = state.status;
  if (status === 'assigned') {
    return {
      kind: 'assigned',
      assignedHub: present(state.assignedHub),
      deviceId: present(state.deviceId),
      dpsLastUpdated,
    };
  }
  if (!status) return { kind: 'pending' };
  if (status === 'assigning' && dpsLastUpdated && nowMs - dpsLastUpdated.getTime() <= assigningGraceMs) {
    return { kind: 'pending' };
  }
  return {
    kind: 'problem',
    status,
    substatus: present(state.substatus),
    errorCode: present(state.errorCode),
    errorMessage: storedErrorMessage(state.errorMessage),
    assignedHub: present(state.assignedHub),
    deviceId: present(state.deviceId),
    dpsLastUpdated,
  };
}

/** Who the row is about and when the scan runs. */
export interface RowContext {
  partitionKey: string;
  rowKey: string;
  registrationId: string;
  enrollmentKind: EnrollmentKind;
  enrollmentId: string;
  scanId: string;
  /** Start of the scan: the time of changes DPS gives no time for (stable across the scan's runs). */
  scanStartedAt: Date;
  now: Date;
  /** lastSeen of an unchanged open row is rewritten once it is older than this. */
  lastSeenRefreshMs: number;
  assigningGraceMinutes: number;
}

export type ChangeKind = 'new' | 'reopened' | 'changed' | 'refreshed' | 'resolved';

export interface RowChange {
  kind: ChangeKind;
  /** The whole row to write (Replace). */
  problem: ProblemRow;
  /** Transitions to append; written before the problem row, so that a replay after a crash cannot lose them. */
  history: HistoryRow[];
  /** A `changed` transition's stored status and error code before it (the problem.changed event says them). */
  previous?: { status: string; errorCode?: number };
}

const sameTime = (a: Date | undefined, b: Date | undefined) => a?.getTime() === b?.getTime();

function historyRow(
  context: RowContext,
  fromStatus: string,
  toStatus: string,
  at: Date,
  error?: { errorCode?: number; errorMessage?: string },
): HistoryRow {
  return {
    partitionKey: context.partitionKey,
    rowKey: historyRowKey(context.rowKey, at, fromStatus, toStatus),
    registrationId: context.registrationId,
    enrollmentKind: context.enrollmentKind,
    enrollmentId: context.enrollmentId,
    fromStatus,
    toStatus,
    errorCode: error?.errorCode,
    errorMessage: error?.errorMessage,
    at,
    scanId: context.scanId,
  };
}

/**
 * The first sighting of a problem row written without one (`historyStarted` false: by versions that wrote it with
 * the problem's first change only): written with that row's next transition. Built from the stored row only, so a
 * replay builds the same row (same key) again.
 */
export function firstSightingRow(stored: ProblemRow, scanId: string): HistoryRow {
  return {
    partitionKey: stored.partitionKey,
    rowKey: historyRowKey(stored.rowKey, stored.firstSeen, 'none', stored.status),
    registrationId: stored.registrationId,
    enrollmentKind: stored.enrollmentKind,
    enrollmentId: stored.enrollmentId,
    fromStatus: 'none',
    toStatus: stored.status,
    errorCode: stored.errorCode,
    errorMessage: stored.errorMessage,
    at: stored.firstSeen,
    scanId,
  };
}

/** A transition of a stored row: preceded by the row's first sighting if that is not in the history yet. */
function transition(stored: ProblemRow, row: HistoryRow, context: RowContext): HistoryRow[] {
  return stored.historyStarted ? [row] : [firstSightingRow(stored, context.scanId), row];
}

function resolve(stored: ProblemRow, resolution: Resolution, at: Date, context: RowContext): RowChange {
  return {
    kind: 'resolved',
    problem: {
      ...stored,
      open: false,
      resolvedAt: at,
      resolution,
      historyStarted: true,
      lastScanId: context.scanId,
    },
    history: transition(stored, historyRow(context, stored.status, resolution, at), context),
  };
}

function problemRow(
  observation: Extract<Observation, { kind: 'problem' }>,
  firstSeen: Date,
  historyStarted: boolean,
  context: RowContext,
): ProblemRow {
  return {
    partitionKey: context.partitionKey,
    rowKey: context.rowKey,
    registrationId: context.registrationId,
    enrollmentKind: context.enrollmentKind,
    enrollmentId: context.enrollmentId,
    status: observation.status,
    substatus: observation.substatus,
    errorCode: observation.errorCode,
    errorMessage: observation.errorMessage,
    errorExplanation:
      observation.explanation ??
      explainProblem(observation.status, observation.errorCode, context.assigningGraceMinutes),
    source: observation.source ?? 'registration-state',
    assignedHub: observation.assignedHub,
    deviceId: observation.deviceId,
    dpsLastUpdated: observation.dpsLastUpdated,
    firstSeen,
    lastSeen: context.now,
    open: true,
    historyStarted,
    lastScanId: context.scanId,
  };
}

function differs(stored: ProblemRow, next: ProblemRow): boolean {
  return (
    stored.status !== next.status ||
    stored.substatus !== next.substatus ||
    stored.errorCode !== next.errorCode ||
    stored.errorMessage !== next.errorMessage ||
    stored.errorExplanation !== next.errorExplanation ||
    stored.source !== next.source ||
    stored.assignedHub !== next.assignedHub ||
    stored.deviceId !== next.deviceId ||
    !sameTime(stored.dpsLastUpdated, next.dpsLastUpdated)
  );
}

/** The write an observation calls for, or undefined when the stored row already says it all. */
export function diffProblem(
  stored: ProblemRow | undefined,
  observation: Observation,
  context: RowContext,
): RowChange | undefined {
  switch (observation.kind) {
    case 'pending':
      return undefined;
    case 'assigned': {
      if (!stored?.open) return undefined;
      const at = observation.dpsLastUpdated ?? context.scanStartedAt;
      const change = resolve(stored, 'assigned', at, context);
      change.problem.assignedHub = observation.assignedHub;
      change.problem.deviceId = observation.deviceId;
      return change;
    }
    case 'gone': {
      if (!stored?.open) return undefined;
      // A device refused for its enrollment's certificates never had a registration state: without one, and no
      // longer refused, it is the certificate that changed, not a state that was deleted.
      const certificateValid =
        stored.source === 'enrollment-certificate' && observation.resolution === 'deleted';
      const resolution = certificateValid ? 'certificate-valid' : observation.resolution;
      return resolve(stored, resolution, context.scanStartedAt, context);
    }
    case 'problem': {
      const at = observation.dpsLastUpdated ?? context.scanStartedAt;
      const error = { errorCode: observation.errorCode, errorMessage: observation.errorMessage };
      if (!stored) {
        // Its first sighting goes to the history now. Keyed by DPS's time, not the scan's: a page replayed after a
        // crash between the history and the problem write builds the same row again.
        return {
          kind: 'new',
          problem: problemRow(observation, context.now, true, context),
          history: [historyRow(context, 'none', observation.status, at, error)],
        };
      }
      if (!stored.open) {
        const reopened = historyRow(context, stored.resolution ?? 'assigned', observation.status, at, error);
        return {
          kind: 'reopened',
          problem: problemRow(observation, context.now, true, context),
          history: transition(stored, reopened, context),
        };
      }
      const next = problemRow(observation, stored.firstSeen, stored.historyStarted, context);
      if (differs(stored, next)) {
        if (stored.status === next.status && stored.errorCode === next.errorCode) {
          return { kind: 'changed', problem: next, history: [] };
        }
        next.historyStarted = true;
        const changed = historyRow(context, stored.status, observation.status, at, error);
        return {
          kind: 'changed',
          problem: next,
          history: transition(stored, changed, context),
          previous: { status: stored.status, errorCode: stored.errorCode },
        };
      }
      if (context.now.getTime() - stored.lastSeen.getTime() >= context.lastSeenRefreshMs) {
        return {
          kind: 'refreshed',
          problem: { ...stored, lastSeen: context.now, lastScanId: context.scanId },
          history: [],
        };
      }
      return undefined;
    }
  }
}

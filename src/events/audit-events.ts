// The audit's lifecycle events, derived from what a scan writes: a page's problem RowChanges (their history rows
// carry the transition and its time; the problem row the details) and the findings' transitions. Ids come from
// the rows' keys (ids.ts), so a page replayed after a crash publishes the same ids again.
import type { RowChange } from '../audit/rows/problems';
import type { HistoryRow, ProblemRow, Resolution } from '../audit/rows/tables';
import type { FindingTransition } from '../audit/scan/findings-pass';
import type { EventType, LifecycleEvent } from './catalog';
import { compact } from './compact';
import { eventId } from './ids';
import { eventText } from './scrub';

function problemDetails(problem: ProblemRow, history: HistoryRow) {
  return {
    registrationId: problem.registrationId,
    enrollmentKind: problem.enrollmentKind,
    enrollmentId: problem.enrollmentId,
    status: problem.status,
    substatus: problem.substatus,
    errorCode: problem.errorCode,
    // Stored redacted already; once more (a row written by an older version or by hand), masks included.
    errorMessage: problem.errorMessage === undefined ? undefined : eventText(problem.errorMessage),
    explanation: eventText(problem.errorExplanation),
    source: problem.source,
    scanId: history.scanId,
  };
}

type EventOf<T extends EventType> = Extract<LifecycleEvent, { type: T }>;

function envelope<T extends EventType>(
  type: T,
  source: string,
  history: HistoryRow,
  data: EventOf<T>['data'],
): LifecycleEvent {
  return {
    id: eventId(type, history.partitionKey, history.rowKey),
    source,
    type,
    subject: history.registrationId,
    time: history.at,
    datacontenttype: 'application/json',
    data: compact(data),
  } as unknown as LifecycleEvent;
}

/** The event of one change; undefined for a change that is no lifecycle fact (a refresh, a detail rewritten). */
export function problemEvent(change: RowChange, source: string): LifecycleEvent | undefined {
  // The transition is the last history row; an earlier one is the first sighting an older version never wrote.
  const history = change.history[change.history.length - 1];
  if (!history) return undefined;
  const details = problemDetails(change.problem, history);
  switch (change.kind) {
    case 'new':
    case 'reopened':
      return envelope('dps-allocator.problem.opened', source, history, {
        ...details,
        reopened: change.kind === 'reopened',
      });
    case 'changed':
      return envelope('dps-allocator.problem.changed', source, history, {
        ...details,
        previousStatus: change.previous?.status ?? history.fromStatus,
        previousErrorCode: change.previous?.errorCode,
      });
    case 'resolved':
      return envelope('dps-allocator.problem.resolved', source, history, {
        ...details,
        resolution: change.problem.resolution ?? (history.toStatus as Resolution),
        assignedHub: change.problem.assignedHub,
        deviceId: change.problem.deviceId,
      });
    case 'refreshed':
      return undefined;
  }
}

export function problemEvents(changes: readonly RowChange[], source: string): LifecycleEvent[] {
  return changes.flatMap((change) => problemEvent(change, source) ?? []);
}

/** One event per finding code raised or cleared. */
export function findingEvents(transitions: readonly FindingTransition[], source: string): LifecycleEvent[] {
  return transitions.map((transition) => {
    const type =
      transition.kind === 'raised'
        ? ('dps-allocator.enrollment.finding-raised' as const)
        : ('dps-allocator.enrollment.finding-cleared' as const);
    return {
      id: eventId(
        type,
        transition.enrollmentKind,
        transition.enrollmentId.toLowerCase(),
        transition.finding.code,
        transition.kind,
        transition.previousLastChanged?.toISOString() ?? 'none',
      ),
      source,
      type,
      subject: transition.enrollmentId,
      time: transition.at,
      datacontenttype: 'application/json',
      data: {
        enrollmentKind: transition.enrollmentKind,
        enrollmentId: transition.enrollmentId,
        code: transition.finding.code,
        message: eventText(transition.finding.message),
      },
    };
  });
}

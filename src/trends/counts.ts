// Counting one UTC day from its source rows (pure: the refresh feeds it rows, the tests feed it fixtures).
// Problems come from the audit's history (one row per status transition): a transition from `none` (first
// sighting) or from a resolution (reopened) into a problem status OPENS a problem; one into a resolution RESOLVES
// it. Allocations are the decision log's own summary of the day (decisions/queries.ts): every decision per
// outcome, assigned ones per hub.
import { resolutionSchema, type HistoryRow } from '../audit/rows/tables';
import { zeroOutcomeCounts, type DecisionOutcome } from '../decisions/table';
import type { DecisionSummary } from '../decisions/views';
import { capCountMap, type CountMap } from './table';

/** The history properties the counts read (the refresh selects only these). */
export type CountedHistory = Pick<HistoryRow, 'fromStatus' | 'toStatus' | 'errorCode' | 'enrollmentId'>;

export interface ProblemBreakdown {
  total: number;
  byStatus: CountMap;
  byErrorCode: CountMap;
  byEnrollment: CountMap;
}

export interface ProblemDayCounts {
  opened: ProblemBreakdown;
  resolved: ProblemBreakdown & { byResolution: CountMap };
}

export interface AllocationDayCounts {
  total: number;
  byOutcome: Record<DecisionOutcome, number>;
  byHub: CountMap;
}

const RESOLUTIONS: ReadonlySet<string> = new Set(resolutionSchema.options);
export const NO_ERROR_CODE = 'none';
export const NO_ENROLLMENT = '(none)';

export const isResolution = (status: string): boolean => RESOLUTIONS.has(status);

export function isOpening(row: Pick<HistoryRow, 'fromStatus' | 'toStatus'>): boolean {
  return (row.fromStatus === 'none' || isResolution(row.fromStatus)) && !isResolution(row.toStatus);
}

export const isResolving = (row: Pick<HistoryRow, 'toStatus'>): boolean => isResolution(row.toStatus);

class Tally {
  private readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  capped(): CountMap {
    return capCountMap(this.counts);
  }
}

class BreakdownTally {
  total = 0;
  readonly status = new Tally();
  readonly errorCode = new Tally();
  readonly enrollment = new Tally();

  add(row: CountedHistory, status: string): void {
    this.total++;
    this.status.add(status);
    this.errorCode.add(row.errorCode === undefined ? NO_ERROR_CODE : String(row.errorCode));
    this.enrollment.add(row.enrollmentId === '' ? NO_ENROLLMENT : row.enrollmentId);
  }

  breakdown(): ProblemBreakdown {
    return {
      total: this.total,
      byStatus: this.status.capped(),
      byErrorCode: this.errorCode.capped(),
      byEnrollment: this.enrollment.capped(),
    };
  }
}

/** One day's problems opened (by their new status) and resolved (by the status they left, and how). */
export function countProblemDay(rows: Iterable<CountedHistory>): ProblemDayCounts {
  const opened = new BreakdownTally();
  const resolved = new BreakdownTally();
  const resolution = new Tally();
  for (const row of rows) {
    if (isOpening(row)) opened.add(row, row.toStatus);
    else if (isResolving(row)) {
      resolved.add(row, row.fromStatus);
      resolution.add(row.toStatus);
    }
  }
  return {
    opened: opened.breakdown(),
    resolved: { ...resolved.breakdown(), byResolution: resolution.capped() },
  };
}

/** One day's decisions from the decision log's summary of it: every outcome present, hubs capped. */
export function allocationDayOf(
  summary: Pick<DecisionSummary, 'total' | 'outcomes' | 'hubs'>,
): AllocationDayCounts {
  const byHub = capCountMap(new Map(summary.hubs.map(({ hub, count }) => [hub, count])));
  return { total: summary.total, byOutcome: { ...summary.outcomes }, byHub };
}

export const emptyProblemDay = (): ProblemDayCounts => countProblemDay([]);
export const emptyAllocationDay = (): AllocationDayCounts =>
  allocationDayOf({ total: 0, outcomes: zeroOutcomeCounts(), hubs: [] });

// Counts to roll-up rows and back. The JSON breakdowns are written with sorted keys, so "did this day change" is
// a comparison of the rows' properties without their updatedAt.
import type { AllocationDayCounts, ProblemDayCounts } from './counts';
import { OUTCOMES, type DecisionOutcome } from '../decisions/table';
import {
  ALLOCATIONS_PARTITION,
  countMapJson,
  parseCountMap,
  PROBLEMS_PARTITION,
  type AllocationTrendRow,
  type ProblemTrendRow,
  type TrendRow,
} from './table';

export function problemTrendRow(day: string, counts: ProblemDayCounts, updatedAt: Date): ProblemTrendRow {
  const { opened, resolved } = counts;
  return {
    partitionKey: PROBLEMS_PARTITION,
    rowKey: day,
    openedTotal: opened.total,
    resolvedTotal: resolved.total,
    openedByStatus: countMapJson(opened.byStatus),
    openedByErrorCode: countMapJson(opened.byErrorCode),
    openedByEnrollment: countMapJson(opened.byEnrollment),
    resolvedByStatus: countMapJson(resolved.byStatus),
    resolvedByErrorCode: countMapJson(resolved.byErrorCode),
    resolvedByEnrollment: countMapJson(resolved.byEnrollment),
    resolvedByResolution: countMapJson(resolved.byResolution),
    updatedAt,
  };
}

export function allocationTrendRow(
  day: string,
  counts: AllocationDayCounts,
  updatedAt: Date,
): AllocationTrendRow {
  return {
    partitionKey: ALLOCATIONS_PARTITION,
    rowKey: day,
    total: counts.total,
    byOutcome: countMapJson(counts.byOutcome),
    byHub: countMapJson(counts.byHub),
    updatedAt,
  };
}

/** Whether two rows of a day hold the same counts (updatedAt aside). */
export function sameCounts(a: TrendRow, b: TrendRow): boolean {
  const { updatedAt: _a, ...left } = a;
  const { updatedAt: _b, ...right } = b;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].every(
    (key) => (left as Record<string, unknown>)[key] === (right as Record<string, unknown>)[key],
  );
}

export function problemCountsOf(row: ProblemTrendRow): ProblemDayCounts {
  return {
    opened: {
      total: row.openedTotal,
      byStatus: parseCountMap(row.openedByStatus),
      byErrorCode: parseCountMap(row.openedByErrorCode),
      byEnrollment: parseCountMap(row.openedByEnrollment),
    },
    resolved: {
      total: row.resolvedTotal,
      byStatus: parseCountMap(row.resolvedByStatus),
      byErrorCode: parseCountMap(row.resolvedByErrorCode),
      byEnrollment: parseCountMap(row.resolvedByEnrollment),
      byResolution: parseCountMap(row.resolvedByResolution),
    },
  };
}

export function allocationCountsOf(row: AllocationTrendRow): AllocationDayCounts {
  const stored = parseCountMap(row.byOutcome);
  const byOutcome = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, stored[outcome] ?? 0])) as Record<
    DecisionOutcome,
    number
  >;
  return { total: row.total, byOutcome, byHub: parseCountMap(row.byHub) };
}

// Decisions as the HTTP API, the CLI's --json and the dashboard see them: keys and bookkeeping left out, absent
// values as null, times as ISO strings.
import type { DecisionOutcome, DecisionRow } from './table';

export interface DecisionView {
  /** When allocate decided (ISO 8601, UTC). */
  at: string;
  /** '' for an invalid request that named no registration. */
  registrationId: string;
  enrollmentKind: 'group' | 'individual' | null;
  enrollmentId: string | null;
  outcome: DecisionOutcome;
  hub: string | null;
  rule: string | null;
  strategy: string | null;
  assignment: 'initial' | 'reprovision' | null;
  /** Why, without payload values or secrets. */
  reason: string;
  /** Time the webhook took to decide, in milliseconds. */
  latencyMs: number;
}

export interface DecisionSummary {
  since: string;
  until: string;
  total: number;
  outcomes: Record<DecisionOutcome, number>;
  /** Assigned decisions per hub, most first (then by name). */
  hubs: { hub: string; count: number }[];
}

export function decisionView(row: DecisionRow): DecisionView {
  return {
    at: row.at.toISOString(),
    registrationId: row.registrationId ?? '',
    enrollmentKind: row.enrollmentKind ?? null,
    enrollmentId: row.enrollmentId ?? null,
    outcome: row.outcome,
    hub: row.hub ?? null,
    rule: row.rule ?? null,
    strategy: row.strategy ?? null,
    assignment: row.assignment ?? null,
    reason: row.reason,
    latencyMs: row.latencyMs,
  };
}

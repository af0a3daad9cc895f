// The one structured line each audit scan run logs: its outcome and counts, as one JSON object whose first key is
// `event`, so that Azure Monitor log alerts can find and parse it in AppTraces (docs/events-contract.md §4.1-§4.2;
// the alerts are in infra/app/alerts.bicep, described in docs/alerts.md).
import { z } from 'zod';
import { redactSecrets } from '../../dps/redact';
import { runOutcomeSchema, type ScanRunRow } from '../rows/tables';

/** The `event` of the line; the alert queries match on it. */
export const AUDIT_SCAN_RUN_EVENT = 'audit-scan-run';

/** Longest `detail` in the line (the run row keeps up to 1,000 characters). */
export const MAX_LINE_DETAIL = 300;

const count = z.number().int().min(0);
const countsSchema = z.record(z.string(), count);

export const scanRunLineSchema = z.object({
  event: z.literal(AUDIT_SCAN_RUN_EVENT),
  /** Null when the run could not start (bad settings): no run row exists. */
  runId: z.string().nullable(),
  /** Null when the run joined no scan (skipped, or failed before taking the lease). */
  scanId: z.string().nullable(),
  outcome: runOutcomeSchema,
  /** Why the run failed, stopped early or was skipped: redacted and short; absent when completed. */
  detail: z.string().optional(),
  durationMs: count,
  /** Problems new or reopened in this run. */
  newProblems: count,
  newProblemsByStatus: countsSchema,
  /** By DPS error code; `none` for problems without one. */
  newProblemsByErrorCode: countsSchema,
  resolvedProblems: count,
  /** Open problem rows after the run; null when they could not be counted. */
  openProblems: count.nullable(),
  registrationsRead: count,
  dpsOperations: count,
  throttled429: count,
});
export type ScanRunLine = z.infer<typeof scanRunLineSchema>;

function shortDetail(detail: string): string {
  return redactSecrets(detail).slice(0, MAX_LINE_DETAIL);
}

/** A JSON object of counts from the run row; a row of an earlier version (or edited by hand) gives none. */
function countsOf(json: string | undefined): Record<string, number> {
  if (json === undefined) return {};
  try {
    const parsed = countsSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** The line of a run that produced a run row. */
export function scanRunLine(run: ScanRunRow): ScanRunLine {
  return {
    event: AUDIT_SCAN_RUN_EVENT,
    runId: run.runId,
    scanId: run.scanId ?? null,
    outcome: run.outcome,
    ...(run.outcome === 'completed' ? {} : { detail: shortDetail(run.detail ?? 'no detail') }),
    durationMs: run.durationMs,
    newProblems: run.problemsFound,
    newProblemsByStatus: countsOf(run.problemsFoundByStatus),
    newProblemsByErrorCode: countsOf(run.problemsFoundByErrorCode),
    resolvedProblems: run.problemsResolved,
    openProblems: run.openProblems ?? null,
    registrationsRead: run.registrationsRead,
    dpsOperations: run.dpsOperations,
    throttled429: run.throttled429,
  };
}

/** The line of a run that threw before it had a row (its settings are wrong, say): failed, nothing counted. */
export function thrownRunLine(error: unknown, durationMs: number): ScanRunLine {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    event: AUDIT_SCAN_RUN_EVENT,
    runId: null,
    scanId: null,
    outcome: 'failed',
    detail: shortDetail(text),
    durationMs: Math.max(0, Math.round(durationMs)),
    newProblems: 0,
    newProblemsByStatus: {},
    newProblemsByErrorCode: {},
    resolvedProblems: 0,
    openProblems: null,
    registrationsRead: 0,
    dpsOperations: 0,
    throttled429: 0,
  };
}

/** Where the line goes: the Functions InvocationContext has both. */
export interface RunLineLogger {
  log(message: string): void;
  error(message: string): void;
}

/**
 * Runs one scan and logs its line, at error level when the run failed; a failed run then throws, so the
 * invocation shows as failed too. One call, one string: how the host joins several arguments is unknown
 * (docs/events-contract.md §4.1).
 */
export async function logScanRun(
  logger: RunLineLogger,
  run: () => Promise<ScanRunRow>,
  now: () => number = Date.now,
): Promise<ScanRunRow> {
  const startedAtMs = now();
  let row: ScanRunRow;
  try {
    row = await run();
  } catch (error) {
    logger.error(JSON.stringify(thrownRunLine(error, now() - startedAtMs)));
    throw error;
  }
  const line = JSON.stringify(scanRunLine(row));
  if (row.outcome !== 'failed') {
    logger.log(line);
    return row;
  }
  logger.error(line);
  throw new Error(`The audit run failed: ${row.detail ?? 'unknown error'}`);
}

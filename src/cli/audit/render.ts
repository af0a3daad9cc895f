// The audit CLI's text output: aligned tables of problems, history, scan runs, findings, the problem summary and
// recent transitions. Times are UTC.
import type { ProblemSummary, RecentTransitions } from '../../audit/read/overview';
import { explainErrorCode } from '../../audit/rows/error-codes';
import type {
  FindingsView,
  HistoryView,
  ProblemView,
  ScanRunView,
  ScanStateView,
} from '../../audit/read/view-shapes';
import { formatCount, NOT_APPLICABLE, renderTable, type Column } from '../shared/format-table';

/** 2026-06-01T12:00:05.123Z -> "2026-06-01 12:00:05Z". */
export function formatTime(date: Date | undefined): string {
  return date === undefined ? NOT_APPLICABLE : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** 850 -> "850 ms", 12_345 -> "12.3 s", 245_000 -> "4 min 05 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

function clip(text: string | undefined, width: number): string {
  if (!text) return NOT_APPLICABLE;
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

const plural = (count: number, one: string, many = `${one}s`) =>
  `${formatCount(count)} ${count === 1 ? one : many}`;

function enrollmentOf(row: { enrollmentKind: string; enrollmentId: string }): string {
  if (row.enrollmentKind === 'individual') return '(individual)';
  return row.enrollmentKind === 'none' ? '(none)' : row.enrollmentId;
}

/** Each error code of the rows once, with what it means (the code's meaning, not one row's explanation). */
function errorLegend(rows: readonly ProblemView[]): string[] {
  const codes = [
    ...new Set(rows.flatMap((row) => (row.errorCode === undefined ? [] : [row.errorCode]))),
  ].sort((a, b) => a - b);
  if (codes.length === 0) return [];
  return ['', 'Error codes:', ...codes.map((code) => `  ${code}  ${explainErrorCode(code)}`)];
}

/**
 * The open problems seen on enrollment certificates or in DPS's attestation logs: DPS has no state that would say
 * why, so the row does.
 */
function refusedDevices(rows: readonly ProblemView[]): string[] {
  const refused = rows.filter(
    (row) => row.open && (row.source === 'enrollment-certificate' || row.source === 'attestation-log'),
  );
  if (refused.length === 0) return [];
  return [
    '',
    'Refused at attestation (no registration state in DPS):',
    ...refused.map((row) => `  ${row.registrationId}: ${row.errorExplanation}`),
  ];
}

export function renderProblems(rows: readonly ProblemView[], more: boolean): string {
  if (rows.length === 0) return 'No problems match.';
  const columns: Column[] = [
    { header: 'REGISTRATION ID' },
    { header: 'ENROLLMENT' },
    { header: 'STATUS' },
    { header: 'ERROR', align: 'right' },
    { header: 'FIRST SEEN' },
    { header: 'LAST SEEN' },
    { header: 'RESOLVED' },
  ];
  const table = renderTable(
    columns,
    rows.map((row) => [
      row.registrationId,
      enrollmentOf(row),
      row.status,
      row.errorCode === undefined ? NOT_APPLICABLE : String(row.errorCode),
      formatTime(row.firstSeen),
      formatTime(row.lastSeen),
      row.open ? NOT_APPLICABLE : `${row.resolution ?? 'yes'} ${formatTime(row.resolvedAt)}`,
    ]),
  );
  const open = rows.filter((row) => row.open).length;
  const summary =
    `${plural(rows.length, 'problem')} (${formatCount(open)} open, ${formatCount(rows.length - open)} resolved)` +
    (more ? '; more match: raise --limit or narrow the filters.' : '.');
  return [table, '', summary, ...errorLegend(rows), ...refusedDevices(rows)].join('\n');
}

export function renderHistory(registrationId: string, rows: readonly HistoryView[], group?: string): string {
  if (rows.length === 0) {
    return group === undefined
      ? `No history for ${registrationId}: the audit has not recorded a problem for it.`
      : `No history for ${registrationId} in enrollment group ${group}: the audit has not recorded a problem for it ` +
          'there (leave out --group to look in every group).';
  }
  const table = renderTable(
    [
      { header: 'AT' },
      { header: 'ENROLLMENT' },
      { header: 'FROM' },
      { header: 'TO' },
      { header: 'ERROR', align: 'right' },
      { header: 'MESSAGE' },
    ],
    rows.map((row) => [
      formatTime(row.at),
      enrollmentOf(row),
      row.fromStatus,
      row.toStatus,
      row.errorCode === undefined ? NOT_APPLICABLE : String(row.errorCode),
      clip(row.errorMessage, 80),
    ]),
  );
  return [`History of ${rows[0]?.registrationId ?? registrationId}:`, table].join('\n');
}

function runNote(run: ScanRunView): string {
  if (run.outcome === 'resumable' && run.resumeFrom) return clip(`next run resumes at ${run.resumeFrom}`, 60);
  return clip(run.detail, 60);
}

function runsTable(runs: readonly ScanRunView[]): string {
  return renderTable(
    [
      { header: 'STARTED' },
      { header: 'DURATION', align: 'right' },
      { header: 'OUTCOME' },
      { header: 'GROUPS', align: 'right' },
      { header: 'REGISTRATIONS', align: 'right' },
      { header: 'PROBLEMS', align: 'right' },
      { header: 'NEW', align: 'right' },
      { header: 'RESOLVED', align: 'right' },
      { header: 'WRITES', align: 'right' },
      { header: 'DPS OPS', align: 'right' },
      { header: '429s', align: 'right' },
      { header: 'NOTE' },
    ],
    runs.map((run) => [
      formatTime(run.startedAt),
      formatDuration(run.durationMs),
      run.outcome,
      formatCount(run.enrollmentGroupsRead),
      formatCount(run.registrationsRead),
      formatCount(run.problemsSeen),
      formatCount(run.problemsFound),
      formatCount(run.problemsResolved),
      formatCount(run.entitiesWritten),
      formatCount(run.dpsOperations),
      formatCount(run.throttled429),
      runNote(run),
    ]),
  );
}

function describeState(state: ScanStateView): string {
  const lease = state.running
    ? `A run (${state.leaseOwner}) holds the scan lease until ${formatTime(state.leaseExpiresAt)}.`
    : 'No run holds the scan lease.';
  if (state.scanId === undefined) return `No scan has started yet. ${lease}`;
  const where =
    state.phase === 'done'
      ? 'completed'
      : state.phase === 'individuals'
        ? 'in progress: individual enrollments next'
        : `in progress: ${state.group === undefined ? 'enrollment groups' : `enrollment group ${state.group}`} next`;
  return `Scan ${state.scanId} (started ${formatTime(state.scanStartedAt)}, ${plural(state.runs ?? 0, 'run')}): ${where}. ${lease}`;
}

export function renderScans(runs: readonly ScanRunView[], state: ScanStateView): string {
  const table = runs.length === 0 ? 'No scan runs recorded.' : runsTable(runs);
  return [table, '', describeState(state)].join('\n');
}

/** The result of `scan`: one line, the run as a row of the scans table, and why it stopped. */
export function renderRunSummary(run: ScanRunView): string {
  const lines = [
    `Scan run ${run.runId} ${run.outcome} in ${formatDuration(run.durationMs)} (scan ${run.scanId ?? NOT_APPLICABLE}).`,
    runsTable([run]),
  ];
  if (run.detail) lines.push('', run.detail);
  if (run.outcome === 'resumable') {
    lines.push(
      'The scan is not complete: the next run (timer or `npm run audit -- scan`) goes on from here.',
    );
  }
  return lines.join('\n');
}

export function renderFindings(rows: readonly FindingsView[]): string {
  if (rows.length === 0) return 'No enrollments recorded yet.';
  const table = renderTable(
    [
      { header: 'KIND' },
      { header: 'ENROLLMENT' },
      { header: 'ALLOCATION' },
      { header: 'STATUS' },
      { header: 'WEBHOOK' },
      { header: 'FINDINGS' },
    ],
    rows.map((row) => [
      row.kind,
      row.enrollmentId,
      row.allocationPolicy,
      row.provisioningStatus,
      row.webhook ?? NOT_APPLICABLE,
      row.findings.length === 0 ? 'none' : row.findings.map((finding) => finding.code).join(', '),
    ]),
  );
  const toFix = rows.flatMap((row) =>
    row.findings.map((finding) => `  ${row.enrollmentId}: ${finding.message}`),
  );
  const withFindings = rows.filter((row) => row.findings.length > 0).length;
  const lines = [
    table,
    '',
    `${plural(rows.length, 'enrollment')}, ${formatCount(withFindings)} with findings.`,
  ];
  if (toFix.length > 0) lines.push('', 'To fix:', ...toFix);
  return lines.join('\n');
}

export function renderSummary(summary: ProblemSummary): string {
  const lines = [
    `${plural(summary.open, 'open problem')} in ${plural(summary.groupsWithProblems, 'enrollment')}; ` +
      `${formatCount(summary.resolvedRecently)} resolved since ${formatTime(summary.resolvedSince)}.`,
    '',
    renderTable(
      [{ header: 'STATUS' }, { header: 'OPEN', align: 'right' }],
      summary.byStatus.map((entry) => [entry.status, formatCount(entry.count)]),
    ),
  ];
  if (summary.byErrorCode.length > 0) {
    lines.push(
      '',
      renderTable(
        [{ header: 'ERROR' }, { header: 'OPEN', align: 'right' }, { header: 'WHAT IT MEANS' }],
        summary.byErrorCode.map((entry) => [
          entry.errorCode === null ? NOT_APPLICABLE : String(entry.errorCode),
          formatCount(entry.count),
          clip(entry.explanation, 100),
        ]),
      ),
    );
  }
  if (summary.byGroup.length > 0) {
    lines.push(
      '',
      renderTable(
        [{ header: 'ENROLLMENT' }, { header: 'OPEN', align: 'right' }],
        summary.byGroup.map((entry) => [entry.enrollmentId ?? '(individual)', formatCount(entry.count)]),
      ),
    );
  }
  return lines.join('\n');
}

export function renderTransitions(transitions: RecentTransitions): string {
  if (transitions.items.length === 0) return `No transitions since ${formatTime(transitions.since)}.`;
  const table = renderTable(
    [
      { header: 'WHEN' },
      { header: 'REGISTRATION ID' },
      { header: 'ENROLLMENT' },
      { header: 'FROM' },
      { header: 'TO' },
      { header: 'ERROR', align: 'right' },
    ],
    transitions.items.map((item) => [
      formatTime(item.at),
      item.registrationId,
      enrollmentOf(item),
      item.fromStatus,
      item.toStatus,
      item.errorCode === undefined ? NOT_APPLICABLE : String(item.errorCode),
    ]),
  );
  const note = transitions.truncated ? ' (the read cap was reached: older ones may be missing)' : '';
  return `${table}\n\n${plural(transitions.items.length, 'transition')} since ${formatTime(transitions.since)}, newest first${note}.`;
}

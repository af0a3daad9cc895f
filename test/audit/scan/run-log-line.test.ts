// The audit run's log line: one JSON object that starts with its event name (the alert queries match the start),
// the counts of the run row under the names the alerts read, a short redacted detail unless the run completed,
// and the timer's behaviour around it: info for a run that ended, error (then a throw) for one that failed.
import {
  AUDIT_SCAN_RUN_EVENT,
  MAX_LINE_DETAIL,
  logScanRun,
  scanRunLine,
  scanRunLineSchema,
  thrownRunLine,
} from '../../../src/audit/scan/run-log-line';
import type { ScanRunRow } from '../../../src/audit/rows/tables';

const LEAKED_KEY = 'TheFunctionKeyOfTheWebhook0123==';

function runRow(overrides: Partial<ScanRunRow> = {}): ScanRunRow {
  return {
    partitionKey: 'runs',
    rowKey: 'k',
    runId: 'run-1',
    scanId: 'scan-1',
    startedAt: new Date('2026-12-07T06:00:00Z'),
    endedAt: new Date('2026-12-07T06:00:04Z'),
    durationMs: 4000,
    outcome: 'completed',
    enrollmentGroupsRead: 2,
    individualEnrollmentsRead: 3,
    registrationsRead: 40,
    problemsSeen: 9,
    problemsFound: 3,
    problemsFoundByStatus: '{"failed":2,"unassigned":1}',
    problemsFoundByErrorCode: '{"400209":2,"none":1}',
    problemsResolved: 1,
    openProblems: 8,
    entitiesWritten: 10,
    dpsOperations: 12,
    throttled429: 1,
    dpsRetries: 1,
    ...overrides,
  };
}

function capture() {
  const lines: Array<{ level: 'log' | 'error'; message: string }> = [];
  return {
    lines,
    logger: {
      log: (message: string) => lines.push({ level: 'log', message }),
      error: (message: string) => lines.push({ level: 'error', message }),
    },
  };
}

describe('scanRunLine', () => {
  it("carries the run's counts under the names the alerts query, and no detail when completed", () => {
    expect(scanRunLine(runRow())).toEqual({
      event: 'audit-scan-run',
      runId: 'run-1',
      scanId: 'scan-1',
      outcome: 'completed',
      durationMs: 4000,
      newProblems: 3,
      newProblemsByStatus: { failed: 2, unassigned: 1 },
      newProblemsByErrorCode: { '400209': 2, none: 1 },
      resolvedProblems: 1,
      openProblems: 8,
      registrationsRead: 40,
      dpsOperations: 12,
      throttled429: 1,
    });
  });

  it('serialises with the event first, so a query can match the start of the message', () => {
    const text = JSON.stringify(scanRunLine(runRow()));
    expect(text.startsWith(`{"event":"${AUDIT_SCAN_RUN_EVENT}"`)).toBe(true);
    expect(scanRunLineSchema.parse(JSON.parse(text))).toEqual(scanRunLine(runRow()));
  });

  it('gives a short, redacted detail for a run that did not complete', () => {
    const detail = `DpsError: POST https://app.example.net/api/allocate?code=${LEAKED_KEY} ${'x'.repeat(2000)}`;
    const line = scanRunLine(runRow({ outcome: 'failed', detail }));
    expect(line.detail).toMatch(/^DpsError: POST https:\/\/app\.example\.net\/api\/allocate\?code=\*\*\* x/);
    expect(line.detail).toHaveLength(MAX_LINE_DETAIL);
    expect(JSON.stringify(line)).not.toContain(LEAKED_KEY);
    expect(scanRunLine(runRow({ outcome: 'skipped', detail: undefined })).detail).toBe('no detail');
  });

  it('reads a row of an earlier version (no breakdown, no open count) as empty counts and null', () => {
    const line = scanRunLine(
      runRow({
        scanId: undefined,
        problemsFoundByStatus: undefined,
        problemsFoundByErrorCode: 'not json',
        openProblems: undefined,
      }),
    );
    expect(line).toMatchObject({
      scanId: null,
      newProblemsByStatus: {},
      newProblemsByErrorCode: {},
      openProblems: null,
    });
  });
});

describe('thrownRunLine', () => {
  it('is a failed line with nothing counted, and the redacted error as detail', () => {
    const line = thrownRunLine(new Error(`bad setting SharedAccessKey=${LEAKED_KEY};`), 12.4);
    expect(line).toMatchObject({
      event: AUDIT_SCAN_RUN_EVENT,
      runId: null,
      outcome: 'failed',
      detail: 'Error: bad setting SharedAccessKey=***;',
      durationMs: 12,
      newProblems: 0,
      openProblems: null,
    });
    expect(() => scanRunLineSchema.parse(line)).not.toThrow();
  });
});

describe('logScanRun', () => {
  it('logs one info line for a run that ended, and returns its row', async () => {
    const { lines, logger } = capture();
    const row = runRow({ outcome: 'resumable', detail: 'Stopped early: time budget.' });
    await expect(logScanRun(logger, () => Promise.resolve(row))).resolves.toBe(row);
    expect(lines).toEqual([{ level: 'log', message: JSON.stringify(scanRunLine(row)) }]);
  });

  it('logs a failed run at error level, then fails the invocation with its detail', async () => {
    const { lines, logger } = capture();
    const row = runRow({ outcome: 'failed', detail: 'StorageError: the table service did not answer' });
    await expect(logScanRun(logger, () => Promise.resolve(row))).rejects.toThrow(
      'The audit run failed: StorageError: the table service did not answer',
    );
    expect(lines.map((line) => line.level)).toEqual(['error']);
    expect(JSON.parse(lines[0]!.message)).toMatchObject({ event: AUDIT_SCAN_RUN_EVENT, outcome: 'failed' });
  });

  it('logs a failed line for a run that threw, and rethrows its error', async () => {
    const { lines, logger } = capture();
    const error = new Error('The audit needs DPS access: set DPS_CONNECTION_STRING');
    let clock = 1000;
    await expect(
      logScanRun(
        logger,
        () => {
          clock += 7;
          return Promise.reject(error);
        },
        () => clock,
      ),
    ).rejects.toBe(error);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('error');
    expect(JSON.parse(lines[0]!.message)).toEqual(thrownRunLine(error, 7));
  });
});

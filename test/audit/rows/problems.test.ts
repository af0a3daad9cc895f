// The pure problem logic: what counts as a problem, and which writes a stored row and a new observation call for
// (none when nothing changed, history only for transitions, the same keys when a page is replayed).
import { explainErrorCode, explainProblem } from '../../../src/audit/rows/error-codes';
import {
  diffProblem,
  firstSightingRow,
  observeRegistration,
  type Observation,
  type RowContext,
} from '../../../src/audit/rows/problems';
import type { ProblemRow } from '../../../src/audit/rows/tables';
import type { DeviceRegistrationState } from '../../../src/dps/schemas';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const GRACE_MS = 10 * 60_000;
const minutesAgo = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

const context = (overrides: Partial<RowContext> = {}): RowContext => ({
  partitionKey: 'fleet-1',
  rowKey: 'dev-1',
  registrationId: 'Dev-1',
  enrollmentKind: 'group',
  enrollmentId: 'Fleet-1',
  scanId: 'scan-2',
  scanStartedAt: new Date(NOW - 60_000),
  now: new Date(NOW),
  lastSeenRefreshMs: 24 * 3_600_000,
  assigningGraceMinutes: 10,
  ...overrides,
});

const failedAt = new Date(NOW - 3_600_000);
const failed: Observation = {
  kind: 'problem',
  status: 'failed',
  errorCode: 400207,
  errorMessage: 'Custom allocation failed with status code: 400',
  dpsLastUpdated: failedAt,
};

/** The row a first scan writes for `failed`, an hour ago. */
function storedRow(overrides: Partial<ProblemRow> = {}): ProblemRow {
  const change = diffProblem(
    undefined,
    failed,
    context({ now: new Date(NOW - 3_600_000), scanId: 'scan-1' }),
  );
  return { ...change!.problem, ...overrides };
}

describe('observeRegistration', () => {
  const state = (fields: Partial<DeviceRegistrationState>): DeviceRegistrationState => ({
    registrationId: 'Dev-1',
    lastUpdatedDateTimeUtc: minutesAgo(1),
    ...fields,
  });

  it('counts failed, unassigned and disabled as problems, assigned as healthy', () => {
    for (const status of ['failed', 'unassigned', 'disabled'] as const) {
      expect(observeRegistration(state({ status }), NOW, GRACE_MS)).toMatchObject({
        kind: 'problem',
        status,
      });
    }
    expect(observeRegistration(state({ status: 'assigned', assignedHub: 'hub' }), NOW, GRACE_MS)).toEqual({
      kind: 'assigned',
      assignedHub: 'hub',
      deviceId: undefined,
      dpsLastUpdated: new Date(minutesAgo(1)),
    });
    expect(observeRegistration(state({ status: undefined }), NOW, GRACE_MS)).toEqual({ kind: 'pending' });
  });

  it('counts assigning as a problem only once the grace period is over', () => {
    expect(
      observeRegistration(
        state({ status: 'assigning', lastUpdatedDateTimeUtc: minutesAgo(9) }),
        NOW,
        GRACE_MS,
      ),
    ).toEqual({
      kind: 'pending',
    });
    expect(
      observeRegistration(
        state({ status: 'assigning', lastUpdatedDateTimeUtc: minutesAgo(11) }),
        NOW,
        GRACE_MS,
      ),
    ).toMatchObject({ kind: 'problem', status: 'assigning' });
    expect(
      observeRegistration(state({ status: 'assigning', lastUpdatedDateTimeUtc: undefined }), NOW, GRACE_MS),
    ).toMatchObject({ kind: 'problem', status: 'assigning' });
  });

  it('keeps error messages redacted and at most 4,000 characters', () => {
    const observed = observeRegistration(
      state({
        status: 'failed',
        errorCode: 400209,
        errorMessage: `401 from https://app.example.net/api/allocate?code=SECRETKEY&x=1 ${'x'.repeat(5000)}`,
      }),
      NOW,
      GRACE_MS,
    );
    expect(observed).toMatchObject({ kind: 'problem', errorCode: 400209 });
    const message = (observed as { errorMessage: string }).errorMessage;
    expect(message).not.toContain('SECRETKEY');
    expect(message).toContain('?code=***');
    expect(message.length).toBe(4000);
  });
});

describe('diffProblem', () => {
  it('writes a new problem row and its first sighting, at the time DPS gives, as a history row', () => {
    const change = diffProblem(undefined, failed, context());
    expect(change).toMatchObject({ kind: 'new' });
    expect(change?.history).toEqual([
      expect.objectContaining({
        partitionKey: 'fleet-1',
        registrationId: 'Dev-1',
        fromStatus: 'none',
        toStatus: 'failed',
        errorCode: 400207,
        at: failedAt,
        scanId: 'scan-2',
      }),
    ]);
    // A page replayed later (after a crash between the history and the problem write) builds the same row.
    const replayed = diffProblem(undefined, failed, context({ now: new Date(NOW + 90_000) }));
    expect(replayed?.history.map((row) => row.rowKey)).toEqual(change?.history.map((row) => row.rowKey));
    expect(change?.problem).toMatchObject({
      partitionKey: 'fleet-1',
      rowKey: 'dev-1',
      registrationId: 'Dev-1',
      enrollmentId: 'Fleet-1',
      status: 'failed',
      errorCode: 400207,
      errorExplanation: explainErrorCode(400207),
      dpsLastUpdated: failedAt,
      firstSeen: new Date(NOW),
      lastSeen: new Date(NOW),
      open: true,
      historyStarted: true,
      lastScanId: 'scan-2',
    });
    expect(diffProblem(undefined, { kind: 'assigned' }, context())).toBeUndefined();
    expect(diffProblem(undefined, { kind: 'pending' }, context())).toBeUndefined();
  });

  it('writes nothing for an unchanged problem until lastSeen is due for a refresh', () => {
    expect(diffProblem(storedRow(), failed, context())).toBeUndefined();
    const refreshed = diffProblem(storedRow(), failed, context({ lastSeenRefreshMs: 30 * 60_000 }));
    expect(refreshed).toMatchObject({ kind: 'refreshed', history: [] });
    expect(refreshed?.problem).toEqual({ ...storedRow(), lastSeen: new Date(NOW), lastScanId: 'scan-2' });
  });

  it('updates details without history when neither status nor error code changed', () => {
    const later = new Date(NOW - 60_000);
    const change = diffProblem(storedRow(), { ...failed, dpsLastUpdated: later }, context());
    expect(change).toMatchObject({ kind: 'changed', history: [] });
    expect(change?.problem).toMatchObject({ dpsLastUpdated: later, firstSeen: storedRow().firstSeen });
  });

  it('records a transition of a row of an earlier version after the first sighting it has not written yet, then alone', () => {
    const stored = storedRow({ historyStarted: false });
    const unassigned: Observation = {
      kind: 'problem',
      status: 'unassigned',
      dpsLastUpdated: new Date(NOW - 5_000),
    };
    const change = diffProblem(stored, unassigned, context());
    expect(change?.history).toEqual([
      firstSightingRow(stored, 'scan-2'),
      expect.objectContaining({ fromStatus: 'failed', toStatus: 'unassigned', at: new Date(NOW - 5_000) }),
    ]);
    expect(change?.history[0]).toMatchObject({
      fromStatus: 'none',
      toStatus: 'failed',
      errorCode: 400207,
      at: stored.firstSeen,
    });
    expect(change?.problem).toMatchObject({
      historyStarted: true,
      status: 'unassigned',
      firstSeen: stored.firstSeen,
    });

    const again = diffProblem(
      change!.problem,
      { ...failed, errorCode: 400209, dpsLastUpdated: new Date(NOW) },
      context(),
    );
    expect(again?.history).toEqual([
      expect.objectContaining({ fromStatus: 'unassigned', toStatus: 'failed' }),
    ]);
  });

  it('builds the same history keys when a page is replayed', () => {
    const stored = storedRow();
    const assigned: Observation = { kind: 'assigned', dpsLastUpdated: new Date(NOW - 1000) };
    const first = diffProblem(stored, assigned, context());
    const replay = diffProblem(stored, assigned, context({ now: new Date(NOW + 90_000) }));
    expect(replay?.history.map((row) => row.rowKey)).toEqual(first?.history.map((row) => row.rowKey));
  });

  it('resolves an open problem that shows as assigned, at the time DPS assigned it', () => {
    const assignedAt = new Date(NOW - 1000);
    const change = diffProblem(
      storedRow(),
      { kind: 'assigned', assignedHub: 'hub-2', deviceId: 'Dev-1', dpsLastUpdated: assignedAt },
      context(),
    );
    expect(change).toMatchObject({ kind: 'resolved' });
    expect(change?.problem).toMatchObject({
      open: false,
      resolvedAt: assignedAt,
      resolution: 'assigned',
      status: 'failed',
      errorCode: 400207,
      assignedHub: 'hub-2',
      historyStarted: true,
    });
    expect(change?.history.map((row) => `${row.fromStatus}>${row.toStatus}`)).toEqual(['failed>assigned']);
    expect(
      diffProblem(change!.problem, { kind: 'assigned', dpsLastUpdated: assignedAt }, context()),
    ).toBeUndefined();
  });

  it('resolves a problem that is gone at the start of the scan', () => {
    const change = diffProblem(storedRow(), { kind: 'gone', resolution: 'enrollment-deleted' }, context());
    expect(change?.problem).toMatchObject({
      open: false,
      resolution: 'enrollment-deleted',
      resolvedAt: context().scanStartedAt,
    });
    expect(diffProblem(undefined, { kind: 'gone', resolution: 'deleted' }, context())).toBeUndefined();
  });

  it('reopens a resolved problem as a new episode, with a transition from its resolution', () => {
    const resolved = diffProblem(
      storedRow(),
      { kind: 'assigned', dpsLastUpdated: new Date(NOW - 9000) },
      context(),
    )!.problem;
    const change = diffProblem(
      resolved,
      { ...failed, errorCode: 400209, dpsLastUpdated: new Date(NOW) },
      context(),
    );
    expect(change).toMatchObject({ kind: 'reopened' });
    expect(change?.problem).toMatchObject({ open: true, firstSeen: new Date(NOW), errorCode: 400209 });
    expect(change?.problem.resolvedAt).toBeUndefined();
    expect(change?.problem.resolution).toBeUndefined();
    expect(change?.history).toEqual([
      expect.objectContaining({ fromStatus: 'assigned', toStatus: 'failed' }),
    ]);
  });
});

describe('explanations', () => {
  it('explains the custom allocation codes and falls back by the hundreds', () => {
    expect(explainErrorCode(400207)).toMatch(/webhook answered a status other than 200, 401 or >= 429/);
    expect(explainErrorCode(400208)).toMatch(/no IoT hub/);
    expect(explainErrorCode(400209)).toMatch(/function key/);
    expect(explainErrorCode(404201)).toMatch(/No enrollment/);
    expect(explainErrorCode(400999)).toMatch(/HTTP 400/);
    expect(explainErrorCode(503001)).toMatch(/DPS-side failure/);
    expect(explainErrorCode(429001)).toMatch(/Throttled/);
    expect(explainErrorCode(7)).toMatch(/not a documented code/);
  });

  it('explains statuses that carry no code', () => {
    expect(explainProblem('assigning', undefined, 15)).toMatch(/more than 15 minutes/);
    expect(explainProblem('disabled', undefined, 10)).toMatch(/disabled/);
    expect(explainProblem('unassigned', undefined, 10)).toMatch(/did not assign/);
    expect(explainProblem('failed', 400209, 10)).toBe(explainErrorCode(400209));
  });
});

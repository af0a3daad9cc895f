// An individual X.509 enrollment is one device: when all its enrolled certificates are expired or not valid yet,
// DPS refuses it at attestation and keeps no registration state, so the audit sees a failed 401002 problem on the
// enrollment itself, unless the device is assigned. At a fixed time, with hand-made certificate info.
import { diffProblem, type RowContext } from '../../../src/audit/rows/problems';
import { observeIndividual } from '../../../src/audit/scan/individual-observation';
import type { DeviceRegistrationState } from '../../../src/dps/schemas';
import { certificateInfo, DAY_MS, entry, x509Individual } from '../support/certificate-info';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const GRACE_MS = 10 * 60_000;
const at = (days: number) => new Date(NOW + days * DAY_MS);
const certificate = (subject: string, from: number, to: number) =>
  entry(certificateInfo(subject, { notBefore: at(from), notAfter: at(to) }));
const EXPIRED = certificate('CN=device-1', -400, -31); // expired at 2026-05-01T12:00:00Z
const VALID = certificate('CN=device-1', -10, 365);

const state = (fields: Partial<DeviceRegistrationState>): DeviceRegistrationState => ({
  registrationId: 'device-1',
  lastUpdatedDateTimeUtc: new Date(NOW - 60_000).toISOString(),
  ...fields,
});

const refused = (explanation: string) => ({
  kind: 'problem',
  status: 'failed',
  errorCode: 401002,
  source: 'enrollment-certificate',
  explanation,
});

describe('observeIndividual', () => {
  it('sees a device whose only certificate expired, and that DPS has no state for, as refused', () => {
    expect(observeIndividual(x509Individual({ primary: EXPIRED }), undefined, NOW, GRACE_MS)).toEqual(
      refused(
        'DPS refuses this device: its certificate expired at 2026-05-01T12:00:00Z ' +
          '(enrollment certificate CN=device-1).',
      ),
    );
  });

  it('names both certificates when neither is valid, expired or not valid yet', () => {
    const enrollment = x509Individual({
      primary: EXPIRED,
      secondary: certificate('CN=device-1 next', 3, 400),
    });
    expect(observeIndividual(enrollment, undefined, NOW, GRACE_MS)).toEqual(
      refused(
        'DPS refuses this device: its primary certificate expired at 2026-05-01T12:00:00Z ' +
          '(enrollment certificate CN=device-1) and its secondary certificate is not valid before ' +
          '2026-06-04T12:00:00Z (enrollment certificate CN=device-1 next).',
      ),
    );
  });

  it('takes the refusal over a registration state that is not assigned: new attempts are refused first', () => {
    const failed = state({
      status: 'failed',
      errorCode: 400209,
      errorMessage: 'Custom allocation unauthorized',
    });
    expect(observeIndividual(x509Individual({ primary: EXPIRED }), failed, NOW, GRACE_MS)).toMatchObject({
      kind: 'problem',
      errorCode: 401002,
      source: 'enrollment-certificate',
    });
  });

  it('leaves an assigned device assigned, whatever its certificate', () => {
    const assigned = state({ status: 'assigned', assignedHub: 'hub-1', deviceId: 'device-1' });
    expect(observeIndividual(x509Individual({ primary: EXPIRED }), assigned, NOW, GRACE_MS)).toMatchObject({
      kind: 'assigned',
      assignedHub: 'hub-1',
    });
  });

  it('sees no refusal while one certificate is valid, its info is missing, or the enrollment is disabled', () => {
    const noState = { kind: 'gone', resolution: 'deleted' };
    const cases = [
      x509Individual({ primary: VALID }),
      x509Individual({ primary: EXPIRED, secondary: VALID }),
      x509Individual({ primary: EXPIRED, secondary: entry(null) }),
      x509Individual({ primary: entry(undefined) }),
      x509Individual({ primary: EXPIRED }, { provisioningStatus: 'disabled' }),
      x509Individual({}),
      { registrationId: 'device-1', attestation: { type: 'symmetricKey' as const } },
    ];
    for (const enrollment of cases) {
      expect(observeIndividual(enrollment, undefined, NOW, GRACE_MS)).toEqual(noState);
    }
    const failed = state({ status: 'failed', errorCode: 400209 });
    expect(observeIndividual(x509Individual({ primary: VALID }), failed, NOW, GRACE_MS)).toMatchObject({
      kind: 'problem',
      errorCode: 400209,
    });
  });
});

describe('the problem row of a refused device', () => {
  const context = (overrides: Partial<RowContext> = {}): RowContext => ({
    partitionKey: '~individual',
    rowKey: 'device-1',
    registrationId: 'device-1',
    enrollmentKind: 'individual',
    enrollmentId: 'device-1',
    scanId: 'scan-1',
    scanStartedAt: new Date(NOW - 60_000),
    now: new Date(NOW),
    lastSeenRefreshMs: 24 * 3_600_000,
    assigningGraceMinutes: 10,
    ...overrides,
  });
  const observe = (enrollment = x509Individual({ primary: EXPIRED })) =>
    observeIndividual(enrollment, undefined, NOW, GRACE_MS);

  const opened = () => diffProblem(undefined, observe(), context())!.problem;

  it('is a failed 401002 row seen on the enrollment, with its explanation, first seen at the scan start', () => {
    const change = diffProblem(undefined, observe(), context());
    expect(change?.problem).toMatchObject({
      status: 'failed',
      errorCode: 401002,
      source: 'enrollment-certificate',
      errorExplanation: expect.stringMatching(
        /^DPS refuses this device: its certificate expired at 2026-05-01/,
      ),
      open: true,
    });
    expect(change?.problem.errorMessage).toBeUndefined();
    expect(change?.problem.dpsLastUpdated).toBeUndefined();
    expect(change?.history).toEqual([
      expect.objectContaining({
        fromStatus: 'none',
        toStatus: 'failed',
        errorCode: 401002,
        at: new Date(NOW - 60_000),
      }),
    ]);
    // A rescan of the same enrollment writes nothing.
    expect(diffProblem(opened(), observe(), context({ now: new Date(NOW + 60_000) }))).toBeUndefined();
  });

  it('is rewritten, without a transition, when another expired certificate replaces the first', () => {
    const other = x509Individual({ primary: certificate('CN=device-1 v2', -400, -2) });
    const change = diffProblem(opened(), observe(other), context());
    expect(change).toMatchObject({ kind: 'changed', history: [] });
    expect(change?.problem.errorExplanation).toContain('CN=device-1 v2');
  });

  it('resolves as certificate-valid once a valid certificate replaces it, as assigned once the device is', () => {
    const renewed = diffProblem(opened(), observe(x509Individual({ primary: VALID })), context());
    expect(renewed?.problem).toMatchObject({ open: false, resolution: 'certificate-valid' });
    expect(renewed?.history).toEqual([
      expect.objectContaining({ fromStatus: 'failed', toStatus: 'certificate-valid' }),
    ]);
    const assigned = observeIndividual(
      x509Individual({ primary: VALID }),
      state({ status: 'assigned', assignedHub: 'hub-1' }),
      NOW,
      GRACE_MS,
    );
    expect(diffProblem(opened(), assigned, context())?.problem).toMatchObject({
      open: false,
      resolution: 'assigned',
    });
    // A deleted enrollment stays enrollment-deleted; a registration-state problem without a state stays deleted.
    expect(
      diffProblem(opened(), { kind: 'gone', resolution: 'enrollment-deleted' }, context())?.problem
        .resolution,
    ).toBe('enrollment-deleted');
    const fromState = diffProblem(
      undefined,
      { kind: 'problem', status: 'failed', errorCode: 400209 },
      context(),
    )!.problem;
    expect(
      diffProblem(fromState, { kind: 'gone', resolution: 'deleted' }, context())?.problem.resolution,
    ).toBe('deleted');
  });

  it('turns into the registration state problem when a renewed device then fails allocation', () => {
    const failed = observeIndividual(
      x509Individual({ primary: VALID }),
      state({ status: 'failed', errorCode: 400209 }),
      NOW,
      GRACE_MS,
    );
    const change = diffProblem(opened(), failed, context());
    expect(change?.problem).toMatchObject({ open: true, errorCode: 400209, source: 'registration-state' });
    expect(change?.history).toEqual([
      expect.objectContaining({ fromStatus: 'failed', toStatus: 'failed', errorCode: 400209 }),
    ]);
  });
});

// DPS states for the tests of the audit views (HTTP API and CLI): two enrollment groups with failed, unassigned
// and disabled devices (the failures carry the seeder's error codes in turn), one failed individual enrollment,
// and a way to make some failed devices recover so that resolved rows exist after the next scan.
import type { DpsEmulator } from '../../../dev/dps-emulator';

export const EXPECTED_URL = 'https://audit-app.example.net/api/allocate';
export const FUNCTION_KEY = 'ViewsFixtureFunctionKey0123456789==';
export const GROUPS = ['Fleet-Custom', 'fleet-hashed'] as const;
export const INDIVIDUAL_FAILED = 'Single-Failed';
export const PER_GROUP = { assigned: 3, failed: 8, unassigned: 2, disabled: 1 };

export interface Recovered {
  status: string;
  errorCode: number | undefined;
}

export interface ExpectedRow {
  registrationId: string;
  /** The group id as DPS spells it, or undefined for the individual enrollment. */
  group: string | undefined;
  status: string;
  errorCode: number | undefined;
  open: boolean;
}

export function seedViewsFixture(emulator: DpsEmulator): void {
  emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUPS[0],
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: `${EXPECTED_URL}?code=${FUNCTION_KEY}`,
      apiVersion: '2021-10-01',
    },
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUPS[1],
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'hashed',
  });
  emulator.seed({ groupIds: [...GROUPS], perGroup: PER_GROUP, seed: 11 });
  emulator.createIndividualEnrollment({
    registrationId: INDIVIDUAL_FAILED,
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: `${EXPECTED_URL}?code=${FUNCTION_KEY}`,
      apiVersion: '2021-10-01',
    },
  });
  const record = emulator.store.newRegistration(INDIVIDUAL_FAILED, undefined);
  record.status = 'failed';
  record.errorCode = 400209;
  record.errorMessage = `Custom allocation failed with status code: 401 (POST ${EXPECTED_URL}?code=${FUNCTION_KEY})`;
  emulator.store.saveRegistration(record);
}

/** Makes the first `count` failed devices of a group assigned; returns what each was before. */
export function recoverFailed(emulator: DpsEmulator, groupId: string, count: number): Map<string, Recovered> {
  const failed = emulator.store
    .snapshot()
    .registrations.filter((r) => r.enrollmentGroupKey === groupId.toLowerCase() && r.status === 'failed')
    .map((r) => r.registrationId)
    .sort()
    .slice(0, count);
  const before = new Map<string, Recovered>();
  for (const id of failed) {
    const record = emulator.store.getRegistration(id)!;
    before.set(id, { status: record.status, errorCode: record.errorCode });
    record.status = 'assigned';
    record.assignedHub = emulator.linkedHubs[0]!.hostName;
    record.deviceId = id;
    record.errorCode = undefined;
    record.errorMessage = undefined;
    emulator.store.saveRegistration(record);
  }
  return before;
}

/**
 * The problem rows the audit should hold, from the emulator's state: every problem registration (open), and the
 * recovered ones (resolved, keeping the status and error they had).
 */
export function expectedRows(
  emulator: DpsEmulator,
  recovered: ReadonlyMap<string, Recovered>,
): ExpectedRow[] {
  const snapshot = emulator.store.snapshot();
  const groupIds = new Map(snapshot.groups.map((g) => [g.value.enrollmentGroupId.toLowerCase(), g.value]));
  const rows: ExpectedRow[] = [];
  for (const record of snapshot.registrations) {
    const group =
      record.enrollmentGroupKey === undefined
        ? undefined
        : String(groupIds.get(record.enrollmentGroupKey)?.enrollmentGroupId);
    const before = recovered.get(record.registrationId);
    if (before) {
      rows.push({ registrationId: record.registrationId, group, ...before, open: false });
    } else if (['failed', 'unassigned', 'disabled'].includes(record.status)) {
      rows.push({
        registrationId: record.registrationId,
        group,
        status: record.status,
        errorCode: record.status === 'failed' ? record.errorCode : undefined,
        open: true,
      });
    }
  }
  return rows.sort((a, b) => (a.registrationId < b.registrationId ? -1 : 1));
}

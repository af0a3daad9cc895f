// The log line of real scan runs against the DPS emulator and Azurite: its breakdown of new problems by status and
// error code matches what the emulator holds, its open count matches the open rows, and a later run counts only
// what changed (a recovery resolved, a device that started failing).
import { logScanRun, scanRunLineSchema, type ScanRunLine } from '../../../src/audit/scan/run-log-line';
import type { DpsClient } from '../../../src/dps/client';
import type { AuditStore } from '../../../src/audit/store';
import {
  groundTruth,
  openProblems,
  scan,
  startAuditEnvironment,
  type AuditTestEnvironment,
} from '../support/environment';

const GROUP = 'line-group';
const GRACE_MINUTES = 10;

let env: AuditTestEnvironment;
let client: DpsClient;
let store: AuditStore;

/** One run through logScanRun, as the timer does it; the line it logged, parsed. */
async function loggedRun(): Promise<ScanRunLine> {
  const messages: string[] = [];
  const logger = {
    log: (message: string) => messages.push(message),
    error: (message: string) => messages.push(message),
  };
  await logScanRun(logger, () => scan(client, store, { assigningGraceMinutes: GRACE_MINUTES, pageSize: 5 }));
  expect(messages).toHaveLength(1);
  return scanRunLineSchema.parse(JSON.parse(messages[0]!));
}

function tally(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

function registration(id: string) {
  const record = env.emulator.store.getRegistration(id);
  if (!record) throw new Error(`no registration ${id}`);
  return record;
}

function seeded(status: string): string[] {
  return env.emulator.store
    .snapshot()
    .registrations.filter((r) => r.enrollmentGroupKey === GROUP && r.status === status)
    .map((r) => r.registrationId)
    .sort();
}

beforeAll(async () => {
  env = await startAuditEnvironment();
  client = env.newClient();
  store = env.newStore();
  env.emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUP,
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'hashed',
  });
  env.emulator.seed({
    groupIds: [GROUP],
    perGroup: { assigned: 4, failed: 6, unassigned: 2, disabled: 1 },
    seed: 7,
  });
  env.emulator.createIndividualEnrollment({
    registrationId: 'line-individual',
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'hashed',
  });
  const failed = env.emulator.store.newRegistration('line-individual', undefined);
  failed.status = 'failed';
  failed.errorCode = 400209;
  failed.errorMessage = 'Custom allocation failed with status code: 401';
  env.emulator.store.saveRegistration(failed);
});

afterAll(async () => {
  await env.stop();
});

it('breaks the first run’s new problems down by status and error code, as DPS holds them', async () => {
  const expected = [...groundTruth(env.emulator, GRACE_MINUTES).values()];
  expect(expected).toHaveLength(6 + 2 + 1 + 1);
  const line = await loggedRun();
  expect(line).toMatchObject({
    event: 'audit-scan-run',
    outcome: 'completed',
    newProblems: expected.length,
    newProblemsByStatus: tally(expected.map((problem) => problem.status)),
    newProblemsByErrorCode: tally(expected.map((problem) => String(problem.errorCode ?? 'none'))),
    resolvedProblems: 0,
    openProblems: (await openProblems(store)).size,
    registrationsRead: 4 + 6 + 2 + 1 + 1,
  });
  expect(line.openProblems).toBe(expected.length);
  expect(line.detail).toBeUndefined();
  expect(line.dpsOperations).toBeGreaterThan(0);
});

it('counts only what changed in a later run: one resolved, one new failure with its code', async () => {
  const [recoveringId, failingId] = [seeded('failed')[0]!, seeded('assigned')[0]!];
  const recovering = registration(recoveringId);
  recovering.status = 'assigned';
  recovering.substatus = 'initialAssignment';
  recovering.assignedHub = env.emulator.linkedHubs[0]!.hostName;
  recovering.deviceId = recovering.registrationId;
  recovering.errorCode = undefined;
  recovering.errorMessage = undefined;
  env.emulator.store.saveRegistration(recovering);
  const failing = registration(failingId);
  failing.status = 'failed';
  failing.errorCode = 400208;
  failing.errorMessage = 'Custom allocation failed: the webhook did not specify an IoT hub';
  env.emulator.store.saveRegistration(failing);

  const line = await loggedRun();
  expect(line).toMatchObject({
    outcome: 'completed',
    newProblems: 1,
    newProblemsByStatus: { failed: 1 },
    newProblemsByErrorCode: { '400208': 1 },
    resolvedProblems: 1,
    openProblems: groundTruth(env.emulator, GRACE_MINUTES).size,
  });
  expect(line.openProblems).toBe((await openProblems(store)).size);
});

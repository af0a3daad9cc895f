// A 10,000-registration scan that its operations budget splits into many runs ends with exactly the ground
// truth, and so does the same scan under the emulator's fault plan, across a storage outage mid-run and across
// a run that dies mid-page. No registration is lost and none gets a second history row.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type Azurite } from '../../../dev/azurite';
import type { DpsClient } from '../../../src/dps/client';
import type { AuditStore } from '../../../src/audit/store';
import type { ScanRunRow } from '../../../src/audit/rows/tables';
import {
  describeRows,
  entitiesOf,
  groundTruth,
  JumpClock,
  openProblems,
  scan,
  scanUntilComplete,
  startAuditEnvironment,
  storeOn,
  type AuditTestEnvironment,
} from '../support/environment';
import { CHECKPOINT_ROW, STATE_PARTITION } from '../../../src/audit/rows/tables';

const GROUPS = 10;
const PER_GROUP = { assigned: 700, failed: 150, unassigned: 60, assigning: 50, disabled: 40 };
const INDIVIDUALS = 30;
const PAGE_SIZE = 50;
/** 200 pages of registration states and 30 lookups: at least 6 runs. */
const MAX_OPERATIONS = 40;
/** Every assigning device counts as stuck, so the truth does not move while the test runs. */
const GRACE_MINUTES = 0;
/** More than a run's lease (time budget + margin), to take over from a run that died. */
const PAST_A_LEASE_MS = 10 * 60_000;

let env: AuditTestEnvironment;
let client: DpsClient;

function budgetedScan(store: AuditStore, clock: JumpClock, extra: Parameters<typeof scan>[2] = {}) {
  return scan(client, store, {
    pageSize: PAGE_SIZE,
    maxOperationsPerRun: MAX_OPERATIONS,
    assigningGraceMinutes: GRACE_MINUTES,
    clock,
    ...extra,
  });
}

/**
 * The store holds exactly the emulator's problems, and exactly the expected transitions (none lost, none twice):
 * `transitions` for the devices that changed, the first sighting alone for every other open problem.
 */
async function expectGroundTruth(store: AuditStore, changed: Map<string, string[]> = new Map()) {
  const truth = groundTruth(env.emulator, GRACE_MINUTES);
  expect(describeRows(await openProblems(store))).toEqual(describeRows(truth));
  const transitions = new Map(changed);
  for (const [key, problem] of truth)
    if (!transitions.has(key)) transitions.set(key, [`none>${problem.status}`]);
  const perRegistration = new Map<string, string[]>();
  for (const row of await entitiesOf(store, 'history')) {
    const key = `${row.partitionKey}/${String(row.registrationId).toLowerCase()}`;
    perRegistration.set(key, [...(perRegistration.get(key) ?? []), `${row.fromStatus}>${row.toStatus}`]);
  }
  expect(new Map([...perRegistration].sort())).toEqual(new Map([...transitions].sort()));
}

/**
 * Changes 10 devices per group after a first scan: 4 failed ones recover, 3 failed ones become unassigned, 3
 * assigned ones fail (new problems: their first sighting only). Returns the transitions the next scan must add.
 */
function changeDevices(): Map<string, string[]> {
  const transitions = new Map<string, string[]>();
  const records = env.emulator.store
    .snapshot()
    .registrations.sort((a, b) => (a.registrationId < b.registrationId ? -1 : 1));
  for (let group = 1; group <= GROUPS; group++) {
    const groupKey = `fleet-${String(group).padStart(3, '0')}`;
    const inGroup = records.filter((r) => r.enrollmentGroupKey === groupKey);
    const failed = inGroup.filter((r) => r.status === 'failed').slice(0, 7);
    const assigned = inGroup.filter((r) => r.status === 'assigned').slice(0, 3);
    for (const [index, snapshot] of failed.entries()) {
      const record = env.emulator.store.getRegistration(snapshot.registrationId)!;
      const recovers = index < 4;
      record.status = recovers ? 'assigned' : 'unassigned';
      record.errorCode = undefined;
      record.errorMessage = undefined;
      env.emulator.store.saveRegistration(record);
      transitions.set(`${groupKey}/${record.registrationId.toLowerCase()}`, [
        'none>failed',
        recovers ? 'failed>assigned' : 'failed>unassigned',
      ]);
    }
    for (const snapshot of assigned) {
      const record = env.emulator.store.getRegistration(snapshot.registrationId)!;
      record.status = 'failed';
      record.errorCode = 400209;
      env.emulator.store.saveRegistration(record);
    }
  }
  return transitions;
}

function expectBudgetKept(runs: readonly ScanRunRow[]): void {
  for (const run of runs) expect(run.dpsOperations - run.dpsRetries).toBeLessThanOrEqual(MAX_OPERATIONS);
}

beforeAll(async () => {
  env = await startAuditEnvironment();
  client = env.newClient();
  env.emulator.seed({ groups: GROUPS, groupIdPrefix: 'fleet-', perGroup: PER_GROUP, seed: 5 });
  for (let i = 0; i < INDIVIDUALS; i++) {
    const registrationId = `single-${String(i).padStart(3, '0')}`;
    env.emulator.createIndividualEnrollment({ registrationId, attestation: { type: 'symmetricKey' } });
    if (i % 3 === 2) continue; // never registered
    const record = env.emulator.store.newRegistration(registrationId, undefined);
    record.status = i % 3 === 0 ? 'failed' : 'assigned';
    if (record.status === 'failed') record.errorCode = 400207;
    env.emulator.store.saveRegistration(record);
  }
});

afterEach(() => {
  env.emulator.setFaultPlan(undefined);
});

afterAll(async () => {
  await env.stop();
});

it('resumes a budget-limited scan over 5+ runs and ends with the ground truth', async () => {
  const store = env.newStore();
  const clock = new JumpClock();
  const runs = await scanUntilComplete(() => budgetedScan(store, clock));
  expect(runs.length).toBeGreaterThanOrEqual(6);
  expect(new Set(runs.map((run) => run.scanId)).size).toBe(1);
  expect(runs.slice(0, -1).every((run) => run.outcome === 'resumable' && run.resumeFrom)).toBe(true);
  expectBudgetKept(runs);
  const read = runs.reduce((sum, run) => sum + run.registrationsRead, 0);
  expect(read).toBeGreaterThanOrEqual(GROUPS * 1000 + (INDIVIDUALS * 2) / 3);
  expect(groundTruth(env.emulator, GRACE_MINUTES).size).toBe(GROUPS * 300 + INDIVIDUALS / 3);
  await expectGroundTruth(store); // and one first sighting per problem
});

it('ends with the ground truth under the fault plan (429s, 5xx, resets, truncated bodies)', async () => {
  const store = env.newStore();
  const clock = new JumpClock();
  env.emulator.setFaultPlan({
    seed: 11,
    throttleRate: 0.1,
    retryAfterSeconds: 0,
    serverErrorRate: 0.04,
    unavailableRate: 0.03,
    resetRate: 0.03,
    truncateRate: 0.03,
  });
  const runs = await scanUntilComplete(() => budgetedScan(store, clock));
  expect(runs.reduce((sum, run) => sum + run.throttled429, 0)).toBeGreaterThan(0);
  expect(runs.reduce((sum, run) => sum + run.dpsRetries, 0)).toBeGreaterThan(0);
  expectBudgetKept(runs);
  await expectGroundTruth(store);
});

describe('with Azurite stopped and restarted mid-scan', () => {
  let azurite: Azurite;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'audit-outage-'));
    azurite = await startAzurite({ dataDir });
  });

  afterAll(async () => {
    await azurite.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('fails the run caught by the outage, then resumes from the checkpoint to the ground truth', async () => {
    const store = storeOn(azurite);
    const clock = new JumpClock();
    expect(
      (await scan(client, store, { pageSize: 100, assigningGraceMinutes: GRACE_MINUTES, clock })).outcome,
    ).toBe('completed');
    const transitions = changeDevices();
    const first = await budgetedScan(store, clock);
    expect(first.outcome).toBe('resumable');

    const warnings: string[] = [];
    const interrupted = await budgetedScan(store, clock, {
      log: (_level, message) => warnings.push(message),
      onProgress: async (progress) => {
        if (progress.pages === 15) await azurite.interrupt();
      },
    });
    expect(interrupted.outcome).toBe('failed');
    expect(interrupted.detail).toMatch(/Table storage/);
    expect(warnings.some((line) => /Could not record the audit run/.test(line))).toBe(true);

    const whileDown = await budgetedScan(store, clock);
    expect(whileDown.outcome).toBe('failed');

    await azurite.restart();
    clock.jump(PAST_A_LEASE_MS); // the interrupted run could not give its lease back
    const rest = await scanUntilComplete(() => budgetedScan(store, clock));
    expect(new Set([first, ...rest].map((run) => run.scanId)).size).toBe(1);
    await expectGroundTruth(store, transitions);
    const recorded = await entitiesOf(store, 'scans');
    expect(recorded.map((row) => row.outcome).sort()).toEqual(
      ['completed', first.outcome, ...rest.map((run) => run.outcome)].sort(),
    );
  });
});

it('replays the pages of a run that died mid-scan without losing or repeating a registration', async () => {
  const store = env.newStore();
  const clock = new JumpClock();
  expect(
    (await scan(client, store, { pageSize: 100, assigningGraceMinutes: GRACE_MINUTES, clock })).outcome,
  ).toBe('completed');
  const transitions = changeDevices();
  const crash = new AbortController();
  const before = [await budgetedScan(store, clock), await budgetedScan(store, clock)];
  expect(before.map((run) => run.outcome)).toEqual(['resumable', 'resumable']);
  await expect(
    budgetedScan(store, clock, {
      signal: crash.signal,
      onProgress: (progress) => {
        if (progress.pages === 25) crash.abort();
      },
    }),
  ).rejects.toThrow(/abort/i);

  const skipped = await budgetedScan(store, clock);
  expect(skipped).toMatchObject({ outcome: 'skipped', detail: expect.stringMatching(/lease is held/) });
  clock.jump(PAST_A_LEASE_MS);
  const rest = await scanUntilComplete(() => budgetedScan(store, clock));
  expect(new Set([...before, ...rest].map((run) => run.scanId)).size).toBe(1);
  await expectGroundTruth(store, transitions);
});

it('writes no checkpoint once the run crashed, even when a save is due at every page', async () => {
  const store = env.newStore();
  const clock = new JumpClock();
  const crash = new AbortController();
  const state = () => store.client('state').getEntity(STATE_PARTITION, CHECKPOINT_ROW);
  let etagAtCrash: string | undefined;
  await expect(
    budgetedScan(store, clock, {
      signal: crash.signal,
      checkpointIntervalMs: 0,
      onProgress: async (progress) => {
        if (progress.pages !== 3) return;
        etagAtCrash = (await state()).etag;
        crash.abort();
      },
    }),
  ).rejects.toThrow(/abort/i);
  expect(etagAtCrash).toBeDefined();
  expect((await state()).etag).toBe(etagAtCrash);
});

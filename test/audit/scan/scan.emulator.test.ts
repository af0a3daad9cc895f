// The audit scan against the DPS emulator and Azurite: a seeded mix of states gives exactly the expected rows,
// a rescan with no change writes nothing, recoveries and deletions close rows with history, and no entity holds
// a secret. The steps build on each other, in order.
import {
  startAuditEnvironment,
  type AuditTestEnvironment,
  describeRows,
  entitiesOf,
  groundTruth,
  JumpClock,
  openProblems,
  scan,
  scanUntilComplete,
  TABLES,
  type Entity,
} from '../support/environment';
import type { DpsClient } from '../../../src/dps/client';
import { history } from '../../../src/audit/read/queries';
import { runAuditScan } from '../../../src/audit/scan/run-audit';
import type { AuditStore } from '../../../src/audit/store';
import type { ScanRunRow } from '../../../src/audit/rows/tables';
import { closedPort } from '../../support/closed-port';

const EXPECTED_URL = 'https://audit-app.example.net/api/allocate';
const FUNCTION_KEY = 'FunctionKeyOfTheAllocateApp0123456789==';
const LEAKED_KEY = 'LeakedKeyInAnErrorMessage42';
const API_VERSION = '2021-10-01';
const GRACE_MINUTES = 10;
const GROUPS = ['Mix-Custom', 'mix-hashed', 'mix-nokey-disabled'];

let env: AuditTestEnvironment;
let client: DpsClient;
let store: AuditStore;

const scanOnce = () =>
  scan(client, store, {
    assigningGraceMinutes: GRACE_MINUTES,
    expectedWebhookUrl: EXPECTED_URL,
    pageSize: 4,
  });

function registration(id: string) {
  const record = env.emulator.store.getRegistration(id);
  if (!record) throw new Error(`no registration ${id}`);
  return record;
}

/** The seeded registration ids of a group with a given status, in id order. */
function seeded(groupId: string, status: string): string[] {
  return env.emulator.store
    .snapshot()
    .registrations.filter((r) => r.enrollmentGroupKey === groupId.toLowerCase() && r.status === status)
    .map((r) => r.registrationId)
    .sort();
}

function individual(
  registrationId: string,
  extra: Record<string, unknown>,
  status?: 'failed' | 'assigned' | 'disabled',
) {
  env.emulator.createIndividualEnrollment({
    registrationId,
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: `${EXPECTED_URL}?code=${FUNCTION_KEY}`,
      apiVersion: API_VERSION,
    },
    ...extra,
  });
  if (!status) return;
  const record = env.emulator.store.newRegistration(registrationId, undefined);
  record.status = status;
  if (status === 'failed') {
    record.errorCode = 400209;
    record.errorMessage = `Custom allocation failed with status code: 401 (POST ${EXPECTED_URL}?code=${LEAKED_KEY})`;
  }
  if (status === 'assigned') {
    record.assignedHub = env.emulator.linkedHubs[0]!.hostName;
    record.deviceId = registrationId;
  }
  env.emulator.store.saveRegistration(record);
}

const byKey = (entities: Entity[]) => new Map(entities.map((e) => [`${e.partitionKey}/${e.rowKey}`, e]));

beforeAll(async () => {
  env = await startAuditEnvironment();
  client = env.newClient();
  store = env.newStore();
  const { emulator } = env;
  const customWebhook = { webhookUrl: `${EXPECTED_URL}?code=${FUNCTION_KEY}`, apiVersion: API_VERSION };
  emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUPS[0],
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'custom',
    customAllocationDefinition: customWebhook,
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUPS[1],
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'hashed',
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUPS[2],
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'custom',
    provisioningStatus: 'disabled',
    customAllocationDefinition: {
      webhookUrl: 'https://elsewhere.example.net/API/allocate',
      apiVersion: API_VERSION,
    },
  });
  emulator.seed({
    groupIds: GROUPS,
    perGroup: { assigned: 6, failed: 4, unassigned: 2, assigning: 2, disabled: 1 },
    seed: 3,
  });
  // One assigning device per group has been stuck for 20 minutes; the other started a moment ago.
  for (const groupId of GROUPS) {
    const [stuck] = seeded(groupId, 'assigning');
    emulator.store.saveRegistration(registration(stuck!), Date.now() - 20 * 60_000);
  }
  individual('Indiv-Failed', {}, 'failed');
  individual(
    'indiv-assigned',
    { allocationPolicy: 'hashed', customAllocationDefinition: undefined },
    'assigned',
  );
  individual('indiv-never', {});
  individual('indiv-disabled', { provisioningStatus: 'disabled' }, 'disabled');
});

afterAll(async () => {
  await env.stop();
});

describe('a scan of a seeded mix of states', () => {
  let run: ScanRunRow;

  beforeAll(async () => {
    run = await scanOnce();
  });

  it('records exactly the problem registrations, and completes', async () => {
    const expected = groundTruth(env.emulator, GRACE_MINUTES);
    // 3 groups x (4 failed + 2 unassigned + 1 disabled + 1 stuck assigning) + 2 individual enrollments.
    expect(expected.size).toBe(26);
    expect(describeRows(await openProblems(store))).toEqual(describeRows(expected));
    expect(run).toMatchObject({
      outcome: 'completed',
      enrollmentGroupsRead: 3,
      individualEnrollmentsRead: 4,
      registrationsRead: 3 * 15 + 3,
      problemsSeen: 26,
      problemsFound: 26,
      problemsResolved: 0,
    });
    expect(run.dpsOperations).toBeGreaterThan(3 * 4);
  });

  it('keeps the original id, the DPS details, a redacted message and an explanation', async () => {
    const rows = byKey(await entitiesOf(store, 'problems'));
    const failed = rows.get('~individual/indiv-failed');
    expect(failed).toMatchObject({
      registrationId: 'Indiv-Failed',
      enrollmentKind: 'individual',
      enrollmentId: 'Indiv-Failed',
      status: 'failed',
      errorCode: 400209,
      errorExplanation: expect.stringMatching(/function key/),
      open: true,
      lastScanId: run.scanId,
    });
    expect(failed?.errorMessage).toContain('?code=***');
    expect(failed?.errorMessage).not.toContain(LEAKED_KEY);
    expect(failed?.dpsLastUpdated).toEqual(new Date(registration('Indiv-Failed').updatedMs));
    expect(failed?.firstSeen).toBeInstanceOf(Date);
    expect(failed?.resolvedAt).toBeUndefined();

    const [stuck] = seeded(GROUPS[0]!, 'assigning');
    expect(rows.get(`mix-custom/${stuck!.toLowerCase()}`)).toMatchObject({
      registrationId: stuck,
      enrollmentKind: 'group',
      enrollmentId: 'Mix-Custom',
      status: 'assigning',
      errorExplanation: expect.stringMatching(/more than 10 minutes/),
    });
    const explanations = new Map(
      [...rows.values()]
        .filter((r) => r.errorCode !== undefined)
        .map((r) => [r.errorCode, r.errorExplanation]),
    );
    expect(explanations.get(400207)).toMatch(/webhook answered a status other than 200/);
    expect(explanations.get(400208)).toMatch(/no IoT hub/);
    expect(explanations.get(400209)).toMatch(/webhook key rejected/);
  });

  it('writes the first sighting of every problem as a history row, at the time DPS gives', async () => {
    const problems = await entitiesOf(store, 'problems');
    const historyRows = await entitiesOf(store, 'history');
    expect(
      historyRows.map((row) => `${row.partitionKey}/${String(row.registrationId)}>${row.toStatus}`).sort(),
    ).toEqual(
      problems.map((row) => `${row.partitionKey}/${String(row.registrationId)}>${row.status}`).sort(),
    );
    expect(historyRows.every((row) => row.fromStatus === 'none')).toBe(true);
    const [row] = problems.filter((p) => p.registrationId === 'Indiv-Failed');
    expect(row).toMatchObject({ historyStarted: true });
    await expect(history(store, 'indiv-failed')).resolves.toEqual([
      expect.objectContaining({
        fromStatus: 'none',
        toStatus: 'failed',
        errorCode: 400209,
        at: row!.dpsLastUpdated,
      }),
    ]);
  });

  it('records the findings of every group and of the individual enrollments that have some', async () => {
    const findings = byKey(await entitiesOf(store, 'findings'));
    const codes = (key: string) =>
      (JSON.parse(String(findings.get(key)?.findings)) as Array<{ code: string }>).map((f) => f.code);
    expect([...findings.keys()].sort()).toEqual([
      'group/mix-custom',
      'group/mix-hashed',
      'group/mix-nokey-disabled',
      'individual/indiv-assigned',
      'individual/indiv-disabled',
    ]);
    expect(codes('group/mix-custom')).toEqual([]);
    expect(codes('group/mix-hashed')).toEqual(['allocation-not-custom']);
    expect(codes('group/mix-nokey-disabled')).toEqual([
      'webhook-elsewhere',
      'webhook-without-key',
      'enrollment-disabled',
    ]);
    expect(codes('individual/indiv-assigned')).toEqual(['allocation-not-custom']);
    expect(codes('individual/indiv-disabled')).toEqual(['enrollment-disabled']);
    expect(findings.get('group/mix-custom')).toMatchObject({
      enrollmentId: 'Mix-Custom',
      allocationPolicy: 'custom',
      provisioningStatus: 'enabled',
      webhook: EXPECTED_URL,
      findingCount: 0,
    });
    expect(findings.get('group/mix-nokey-disabled')).toMatchObject({
      findingCount: 3,
      provisioningStatus: 'disabled',
    });
  });
});

describe('a rescan with no change', () => {
  it('writes no problem, history or findings entity: only its run row (and the checkpoint)', async () => {
    const before = await Promise.all(
      ['problems', 'history', 'findings'].map((t) => entitiesOf(store, t as never)),
    );
    const runsBefore = await entitiesOf(store, 'scans');
    const run = await scanOnce();
    const after = await Promise.all(
      ['problems', 'history', 'findings'].map((t) => entitiesOf(store, t as never)),
    );
    expect(run).toMatchObject({
      outcome: 'completed',
      entitiesWritten: 0,
      problemsSeen: 26,
      problemsFound: 0,
    });
    expect(after.map((rows) => rows.map((e) => [e.rowKey, e.etag]))).toEqual(
      before.map((rows) => rows.map((e) => [e.rowKey, e.etag])),
    );
    expect(await entitiesOf(store, 'scans')).toHaveLength(runsBefore.length + 1);
  });
});

describe('changes between scans', () => {
  let run: ScanRunRow;
  let recovering: string;
  let removed: string;
  let newlyFailed: string;

  beforeAll(async () => {
    const { emulator } = env;
    recovering = seeded(GROUPS[0]!, 'failed')[0]!;
    removed = seeded(GROUPS[1]!, 'unassigned')[0]!;
    newlyFailed = seeded(GROUPS[0]!, 'assigned')[0]!;
    const recovered = registration(recovering);
    recovered.status = 'assigned';
    recovered.substatus = 'initialAssignment';
    recovered.assignedHub = emulator.linkedHubs[1]!.hostName;
    recovered.deviceId = recovered.registrationId;
    recovered.errorCode = undefined;
    recovered.errorMessage = undefined;
    emulator.store.saveRegistration(recovered);

    emulator.store.deleteRegistration(removed);

    const failing = registration(newlyFailed);
    failing.status = 'failed';
    failing.errorCode = 400208;
    failing.errorMessage = 'Custom allocation failed: the webhook did not specify an IoT hub';
    emulator.store.saveRegistration(failing);

    emulator.store.deleteGroup(GROUPS[2]!);
    emulator.store.deleteIndividual('indiv-disabled');
    run = await scanOnce();
  });

  it('leaves exactly the current problems open', async () => {
    expect(describeRows(await openProblems(store))).toEqual(
      describeRows(groundTruth(env.emulator, GRACE_MINUTES)),
    );
    // 1 recovered + 1 deleted + 8 of the deleted group + 1 deleted individual enrollment.
    expect(run).toMatchObject({ outcome: 'completed', problemsResolved: 11, problemsFound: 1 });
  });

  it('resolves a device that shows as assigned, with the time DPS assigned it and a history row', async () => {
    const id = recovering;
    const rows = byKey(await entitiesOf(store, 'problems'));
    const row = rows.get(`mix-custom/${id.toLowerCase()}`);
    const assignedAt = new Date(registration(id).updatedMs);
    expect(row).toMatchObject({
      open: false,
      resolution: 'assigned',
      resolvedAt: assignedAt,
      status: 'failed',
      assignedHub: env.emulator.linkedHubs[1]!.hostName,
    });
    const transitions = (await entitiesOf(store, 'history')).filter((h) => h.registrationId === id);
    expect(transitions.map((h) => [h.fromStatus, h.toStatus])).toEqual([
      ['none', 'failed'],
      ['failed', 'assigned'],
    ]);
    expect(transitions[1]?.at).toEqual(assignedAt);
    await expect(history(store, id.toUpperCase(), { group: 'MIX-CUSTOM' })).resolves.toEqual([
      expect.objectContaining({ fromStatus: 'none', toStatus: 'failed' }),
      expect.objectContaining({ fromStatus: 'failed', toStatus: 'assigned', at: assignedAt }),
    ]);
  });

  it('resolves deleted registrations, groups and individual enrollments, and drops their findings', async () => {
    const rows = byKey(await entitiesOf(store, 'problems'));
    expect(rows.get(`mix-hashed/${removed}`)).toMatchObject({ open: false, resolution: 'deleted' });
    const ofDeletedGroup = [...rows.values()].filter((r) => r.partitionKey === 'mix-nokey-disabled');
    expect(ofDeletedGroup).toHaveLength(8);
    for (const row of ofDeletedGroup)
      expect(row).toMatchObject({ open: false, resolution: 'enrollment-deleted' });
    expect(rows.get('~individual/indiv-disabled')).toMatchObject({
      open: false,
      resolution: 'enrollment-deleted',
    });
    const findings = byKey(await entitiesOf(store, 'findings'));
    expect(findings.has('group/mix-nokey-disabled')).toBe(false);
    expect(findings.has('individual/indiv-disabled')).toBe(false);
    const transitions = await entitiesOf(store, 'history');
    expect(transitions.filter((h) => h.toStatus === 'enrollment-deleted')).toHaveLength(9);
    // One first sighting per problem row ever written, whatever happened to it since.
    expect(transitions.filter((h) => h.fromStatus === 'none')).toHaveLength(rows.size);
  });

  it('opens a row for a device that started failing, and reopens a recovered one that fails again', async () => {
    const id = recovering;
    const again = registration(id);
    again.status = 'failed';
    again.errorCode = 400207;
    again.errorMessage = 'Custom allocation failed with status code: 400';
    env.emulator.store.saveRegistration(again);
    const rescan = await scanOnce();
    expect(rescan).toMatchObject({ problemsFound: 1, problemsResolved: 0 });

    const rows = byKey(await entitiesOf(store, 'problems'));
    expect(rows.get(`mix-custom/${newlyFailed.toLowerCase()}`)).toMatchObject({
      open: true,
      errorCode: 400208,
    });
    const reopened = rows.get(`mix-custom/${id.toLowerCase()}`);
    expect(reopened).toMatchObject({ open: true, status: 'failed', errorCode: 400207 });
    expect(reopened?.resolvedAt).toBeUndefined();
    expect(reopened?.resolution).toBeUndefined();
    const rows2 = (await entitiesOf(store, 'history')).filter((h) => h.registrationId === id);
    expect(rows2.map((h) => [h.fromStatus, h.toStatus, h.errorCode])).toEqual([
      ['none', 'failed', expect.any(Number)],
      ['failed', 'assigned', undefined],
      ['assigned', 'failed', 400207],
    ]);
  });
});

describe('a scan that takes several runs per group', () => {
  it('resolves a device deleted meanwhile by its lastSeen, at no DPS cost', async () => {
    const spanned = env.newStore();
    const options = { assigningGraceMinutes: GRACE_MINUTES, pageSize: 4, lastSeenRefreshHours: 0 };
    expect((await scan(client, spanned, options)).outcome).toBe('completed');
    const [gone] = seeded(GROUPS[1]!, 'disabled');
    env.emulator.store.deleteRegistration(gone!);
    // One page per run after the enumeration: every group pass spans runs.
    const runs = await scanUntilComplete(() => scan(client, spanned, { ...options, maxOperationsPerRun: 2 }));
    expect(runs.length).toBeGreaterThan(6);
    const rows = byKey(await entitiesOf(spanned, 'problems'));
    expect(rows.get(`mix-hashed/${gone!.toLowerCase()}`)).toMatchObject({
      open: false,
      resolution: 'deleted',
    });
    expect(describeRows(await openProblems(spanned))).toEqual(
      describeRows(groundTruth(env.emulator, GRACE_MINUTES)),
    );
  });
});

describe('a budget too small to make progress', () => {
  it('fails the run with the reason instead of resuming forever', async () => {
    const run = await scan(client, env.newStore(), { maxOperationsPerRun: 1 });
    expect(run).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/No progress.*AUDIT_MAX_OPERATIONS_PER_RUN/),
    });
  });
});

describe('overlapping runs', () => {
  const pausedRun = (other: AuditStore, clock: JumpClock) => {
    let pause!: () => void;
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (pause = resolve));
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const run = scan(client, other, {
      assigningGraceMinutes: GRACE_MINUTES,
      pageSize: 4,
      clock,
      onProgress: async (progress) => {
        if (progress.pages !== 2) return;
        pause();
        await resumed;
      },
    });
    return { run, paused, resume };
  };

  it('never both write: a run that finds the lease held is skipped and says by whom', async () => {
    const prefix = `Overlap${Date.now() % 1_000_000}`;
    const clock = new JumpClock();
    const a = pausedRun(env.newStore(prefix), clock);
    await a.paused;
    const b = await scan(client, env.newStore(prefix), { clock });
    expect(b).toMatchObject({ outcome: 'skipped', entitiesWritten: 0, dpsOperations: 0 });
    expect(b.detail).toMatch(/lease is held by [0-9a-f-]{36} until/);
    a.resume();
    expect((await a.run).outcome).toBe('completed');
    const runs = await entitiesOf(env.newStore(prefix), 'scans');
    expect(runs.map((run) => run.outcome).sort()).toEqual(['completed', 'skipped']);
  });

  it('stops a run whose lease expired and was taken, before it writes again', async () => {
    const prefix = `Takeover${Date.now() % 1_000_000}`;
    const clock = new JumpClock();
    const first = env.newStore(prefix);
    const a = pausedRun(first, clock);
    await a.paused;
    const writtenWhenPaused = first.entitiesWritten;
    clock.jump(10 * 60_000);
    // A grace period that the 10-minute jump cannot push the seeded assigning devices past.
    const b = await scan(client, env.newStore(prefix), { clock, assigningGraceMinutes: 60 });
    expect(b.outcome).toBe('completed');
    a.resume();
    const late = await a.run;
    expect(late).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/LeaseLostError/) });
    // Nothing after the pause but its own run row (a log line of the scans table, not scan data).
    expect(late.entitiesWritten).toBe(writtenWhenPaused);
    expect(first.entitiesWritten).toBe(writtenWhenPaused + 1);
    expect(describeRows(await openProblems(first))).toEqual(describeRows(groundTruth(env.emulator, 60)));
  });
});

describe('runAuditScan', () => {
  it('runs a scan from app settings: DPS connection, CA certificate, storage and table prefix', async () => {
    const prefix = `Settings${Date.now() % 1_000_000}`;
    const run = await runAuditScan({
      env: {
        DPS_CONNECTION_STRING: env.emulator.readOnlyConnectionString,
        DPS_CA_CERTIFICATE_PATH: env.emulator.caCertificatePath,
        AUDIT_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
        AUDIT_TABLE_PREFIX: prefix,
        AUDIT_EXPECTED_WEBHOOK_URL: EXPECTED_URL,
      },
    });
    expect(run).toMatchObject({ outcome: 'completed' });
    const tables = env.newStore(prefix);
    expect(describeRows(await openProblems(tables))).toEqual(
      describeRows(groundTruth(env.emulator, GRACE_MINUTES)),
    );
    expect(await entitiesOf(tables, 'scans')).toEqual([expect.objectContaining({ runId: run.runId })]);
  });
});

describe('when DPS cannot be reached', () => {
  it('fails a run that read no page, saying so, instead of recording it as resumable', async () => {
    const port = await closedPort();
    const unreachable = env.newClient({
      connectionString: env.emulator.serviceConnectionString.replace(
        /HostName=[^;]+/,
        `HostName=127.0.0.1:${port}`,
      ),
      retry: { baseDelayMs: 1, maxDelayMs: 5, minThrottleDelayMs: 0, maxAttempts: 2 },
    });
    const run = await scan(unreachable, env.newStore(), { pageSize: 4 });
    expect(run).toMatchObject({ outcome: 'failed', registrationsRead: 0 });
    expect(run.detail).toMatch(/^No progress: DPS failed before one page was read\. .*ECONNREFUSED/);
  });
});

describe('secrets', () => {
  it('stores no key, function key or code= value in any entity of any table', async () => {
    const snapshot = env.emulator.store.snapshot();
    const keys = [...snapshot.groups, ...snapshot.individuals].flatMap((e) => {
      const symmetric = e.value.attestation.symmetricKey;
      return [symmetric?.primaryKey, symmetric?.secondaryKey].filter((k): k is string => !!k);
    });
    expect(keys.length).toBeGreaterThanOrEqual(2 * 5);
    const policyKey = /SharedAccessKey=([^;]+)/.exec(env.emulator.serviceConnectionString)![1]!;
    const secrets = [...keys, FUNCTION_KEY, LEAKED_KEY, policyKey];

    let checked = 0;
    for (const table of TABLES) {
      for (const entity of await entitiesOf(store, table)) {
        const text = JSON.stringify(entity);
        for (const secret of secrets)
          expect({ table, leaked: text.includes(secret) }).toEqual({ table, leaked: false });
        expect(text).not.toMatch(/code=[\w%-]/i); // `code=***` (redacted) is fine, a value is not
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});

// The DPS client against the project's DPS emulator (dev/dps-emulator): SAS with a host:port, the emulator's
// self-signed certificate, etags, paging and, under a fault plan, retries that neither skip nor repeat a page.
import { FAST_TIMING, startDpsEmulator, type DpsEmulator } from '../../dev/dps-emulator';
import { DpsClient, type DpsClientOptions } from '../../src/dps/client';
import { DpsNotFoundError, DpsPreconditionFailedError, DpsUnauthorizedError } from '../../src/dps/errors';
import type { DeviceRegistrationState, EnrollmentGroup } from '../../src/dps/schemas';

const GROUPS = 3;
const PER_GROUP = 130; // 100 assigned + 30 failed: four pages of 40 per group
const PAGE_SIZE = 40;

let emulator: DpsEmulator;
let seededGroupIds: string[];
const clients: DpsClient[] = [];

function newClient(options: Partial<DpsClientOptions> = {}): DpsClient {
  const client = new DpsClient({
    connectionString: emulator.serviceConnectionString,
    caCertificate: emulator.caCertificatePem,
    pageSize: PAGE_SIZE,
    operationsPerMinute: 100_000,
    retry: { baseDelayMs: 1, maxDelayMs: 5, minThrottleDelayMs: 0, maxAttempts: 10 },
    ...options,
  });
  clients.push(client);
  return client;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of iterable) result.push(item);
  return result;
}

/** Every registration id of every group, page by page, with the continuation token each page request sent. */
async function scan(client: DpsClient): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  for await (const group of client.enrollmentGroups()) {
    for await (const page of client.registrationStatePages(group.enrollmentGroupId)) {
      pages++;
      ids.push(...page.items.map((state: DeviceRegistrationState) => state.registrationId));
    }
  }
  return { ids, pages };
}

beforeAll(async () => {
  emulator = await startDpsEmulator(FAST_TIMING);
  seededGroupIds = emulator.seed({ groups: GROUPS, perGroup: { assigned: 100, failed: 30 } }).groupIds;
});

afterEach(async () => {
  emulator.setFaultPlan(undefined);
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await emulator.stop();
});

describe('DpsClient against the DPS emulator', () => {
  it('creates, reads, updates with an etag, and deletes an enrollment group', async () => {
    const client = newClient();
    const group: EnrollmentGroup = {
      enrollmentGroupId: 'client-crud-group',
      attestation: { type: 'symmetricKey' },
      allocationPolicy: 'hashed',
    };

    const created = await client.createOrUpdateEnrollmentGroup(group);
    const read = await client.getEnrollmentGroup('client-crud-group');
    expect(read.etag).toBe(created.etag);
    const updated = await client.createOrUpdateEnrollmentGroup({
      ...read,
      initialTwin: { tags: { site: 'b' } },
    });
    expect(updated.etag).not.toBe(created.etag);

    await expect(client.createOrUpdateEnrollmentGroup(read)).rejects.toBeInstanceOf(
      DpsPreconditionFailedError,
    );
    await expect(
      client.deleteEnrollmentGroup('client-crud-group', { ifMatch: created.etag! }),
    ).rejects.toBeInstanceOf(DpsPreconditionFailedError);
    await client.deleteEnrollmentGroup('client-crud-group', { ifMatch: updated.etag! });
    const missing = await client.getEnrollmentGroup('client-crud-group').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DpsNotFoundError);
    expect((missing as DpsNotFoundError).errorCode).toEqual(expect.any(Number));
  });

  it('reads individual enrollments and registration states', async () => {
    const client = newClient();
    await client.createOrUpdateIndividualEnrollment({
      registrationId: 'client-dev-1',
      attestation: { type: 'symmetricKey' },
    });

    const enrollments = await collect(client.individualEnrollments());
    expect(enrollments.map((e) => e.registrationId)).toContain('client-dev-1');
    const firstGroup = seededGroupIds[0]!;
    const [state] = await collect(client.registrationStates(firstGroup, { pageSize: 1 }));
    await expect(client.getRegistrationState(state!.registrationId)).resolves.toMatchObject({
      registrationId: state!.registrationId,
      status: state!.status,
    });
    await client.deleteIndividualEnrollment('client-dev-1');
  });

  it('is refused with a read-only policy when it writes', async () => {
    const client = newClient({ connectionString: emulator.readOnlyConnectionString });
    await expect(
      client.createOrUpdateEnrollmentGroup({
        enrollmentGroupId: 'nope',
        attestation: { type: 'symmetricKey' },
      }),
    ).rejects.toBeInstanceOf(DpsUnauthorizedError);
  });

  it('pages every group completely and resumes from a saved token', async () => {
    const client = newClient();

    const groups = await collect(client.enrollmentGroups());
    expect(groups.map((g) => g.enrollmentGroupId)).toEqual(expect.arrayContaining(seededGroupIds));
    const groupId = seededGroupIds[1]!;
    const pages = await collect(client.registrationStatePages(groupId));
    expect(pages.map((p) => p.items.length)).toEqual([40, 40, 40, 10]);
    const ids = pages.flatMap((p) => p.items.map((s) => s.registrationId));
    expect(new Set(ids).size).toBe(PER_GROUP);
    expect(ids.filter((id) => emulator.getRegistration(id)?.status === 'failed')).toHaveLength(30);

    const resumed = await collect(
      client.registrationStates(groupId, { startToken: pages[1]!.continuationToken }),
    );
    expect(resumed.map((s) => s.registrationId)).toEqual(ids.slice(80));
  });

  it('reads every page exactly once under a fault plan, counting operations and 429s', async () => {
    const baseline = await scan(newClient());
    expect(baseline.ids.length).toBeGreaterThanOrEqual(GROUPS * PER_GROUP);

    emulator.resetStats();
    emulator.setFaultPlan({
      seed: 7,
      throttleRate: 0.12,
      retryAfterSeconds: 0,
      serverErrorRate: 0.05,
      unavailableRate: 0.05,
      resetRate: 0.05,
      truncateRate: 0.05,
    });
    const client = newClient();
    const faulted = await scan(client);

    expect(faulted.ids).toEqual(baseline.ids); // nothing skipped, nothing read twice, same order
    expect(faulted.pages).toBe(baseline.pages);
    const emulatorStats = emulator.stats;
    // Each kind of fault (429, 500, 503, reset, truncated body) hit this scan at least once.
    expect(Object.values(emulatorStats.faults).every((count) => count > 0)).toBe(true);
    const stats = client.stats();
    expect(stats.throttled).toBe(emulatorStats.throttled);
    expect(stats.operations).toBe(Object.values(emulatorStats.calls).reduce((a, b) => a + b, 0));
    expect(stats.retries).toBe(stats.operations - (faulted.pages + 1)); // one group-list page, then the state pages
  });
});

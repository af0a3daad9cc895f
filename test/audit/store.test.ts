// The table store and the scan lease against Azurite: batched writes across partitions, typed errors when storage
// is down, rows that fail their schema skipped, and a lease that only one run holds at a time.
import { startAzurite, type Azurite } from '../../dev/azurite';
import { LeaseLostError, ScanLease, type Checkpoint } from '../../src/audit/scan/checkpoint';
import { type AuditStore } from '../../src/audit/store';
import { StorageError } from '../../src/storage/errors';
import { problemRowSchema } from '../../src/audit/rows/tables';
import { storeOn } from './support/environment';

let azurite: Azurite;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(async () => {
  await azurite.stop();
});

async function readyStore(): Promise<AuditStore> {
  const store = storeOn(azurite);
  await store.ensureTables();
  return store;
}

describe('AuditStore', () => {
  it('creates its five tables once, named from the prefix', async () => {
    const store = storeOn(azurite, 'Fleet');
    expect(store.names).toEqual({
      problems: 'FleetProblems',
      history: 'FleetHistory',
      findings: 'FleetEnrollmentFindings',
      scans: 'FleetScans',
      state: 'FleetState',
    });
    await store.ensureTables();
    await store.ensureTables();
    for (const table of ['problems', 'history', 'findings', 'scans', 'state'] as const) {
      await expect(store.client(table).getAccessPolicy()).resolves.toBeDefined();
    }
    expect(() => storeOn(azurite, '1bad-prefix')).toThrow(/prefix/);
  });

  it('writes hundreds of rows over several partitions in transactions, and deletes', async () => {
    const store = await readyStore();
    const rows = Array.from({ length: 230 }, (_, i) => ({
      partitionKey: `p${i % 3}`,
      rowKey: `r${String(i).padStart(4, '0')}`,
      n: i,
    }));
    await store.upsert('history', rows);
    expect(store.entitiesWritten).toBe(230);
    let count = 0;
    for await (const _entity of store.client('history').listEntities()) count++;
    expect(count).toBe(230);
    await store.write('history', [['delete', rows[0]!]]);
    await expect(store.client('history').getEntity('p0', 'r0000')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('skips rows that do not match the schema instead of failing the read', async () => {
    const store = await readyStore();
    await store.upsert('problems', [{ partitionKey: 'g', rowKey: 'edited-by-hand', status: 42 } as never]);
    const rows = await store.rowMap('problems', problemRowSchema, "PartitionKey eq 'g'");
    expect(rows.size).toBe(0);
  });

  it('reports a storage outage as a StorageError once the SDK retries are spent', async () => {
    const down = await startAzurite();
    const store = storeOn(down);
    await down.stop();
    const error = await store.ensureTables().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toMatch(/Table storage createTable .* failed/);
    expect((error as StorageError).code).toBe('ECONNREFUSED');
  });
});

describe('ScanLease', () => {
  const checkpoint: Checkpoint = {
    scanId: 'scan-1',
    scanStartedAt: new Date('2026-01-01T00:00:00Z'),
    phase: 'groups',
    groupKey: 'fleet-002',
    continuationToken: 'token-7',
    runs: 2,
  };

  it('is held by one run at a time; the next takes it once it expires; the first then stops writing', async () => {
    const store = await readyStore();
    let now = Date.UTC(2026, 0, 1);
    const clock = () => now;
    const a = await ScanLease.acquire(store, 'run-a', new Date(now + 60_000), clock);
    expect(a).toMatchObject({ acquired: true, checkpoint: undefined });
    if (!a.acquired) return;
    await a.lease.save(checkpoint);

    const b = await ScanLease.acquire(store, 'run-b', new Date(now + 60_000), clock);
    expect(b).toEqual({ acquired: false, holder: 'run-a', expiresAt: new Date(now + 60_000) });

    now += 61_000;
    const c = await ScanLease.acquire(store, 'run-c', new Date(now + 60_000), clock);
    expect(c).toMatchObject({ acquired: true, checkpoint });
    // run-a, whose clock is behind, tries to go on: the etag no longer matches.
    now -= 61_000;
    await expect(a.lease.save(checkpoint)).rejects.toBeInstanceOf(LeaseLostError);
    now += 61_000;
    expect(() => a.lease.assertHeld()).toThrow(LeaseLostError);
  });

  it('lets exactly one of two runs racing for a fresh lease win', async () => {
    const store = await readyStore();
    const now = () => Date.now();
    const results = await Promise.all(
      ['x', 'y'].map((owner) => ScanLease.acquire(store, owner, new Date(Date.now() + 60_000), now)),
    );
    expect(results.filter((result) => result.acquired)).toHaveLength(1);
  });

  it('is free again at once when released, and keeps the checkpoint', async () => {
    const store = await readyStore();
    const now = () => Date.now();
    const first = await ScanLease.acquire(store, 'one', new Date(Date.now() + 60_000), now);
    if (!first.acquired) throw new Error('not acquired');
    await first.lease.release(checkpoint);
    const second = await ScanLease.acquire(store, 'two', new Date(Date.now() + 60_000), now);
    expect(second).toMatchObject({ acquired: true, checkpoint });
  });
});

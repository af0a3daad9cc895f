// The read functions the HTTP view and the CLI use: filters, paging, history, scans, findings and scan state,
// against Azurite; values reach OData only through the `odata` template, and bad filters are clear errors.
import { startAzurite, type Azurite } from '../../../dev/azurite';
import { ScanLease } from '../../../src/audit/scan/checkpoint';
import { runRowKey } from '../../../src/audit/rows/keys';
import { idKey } from '../../../src/storage/keys';
import {
  findings,
  history,
  listProblems,
  problemsFilter,
  recentScans,
  scanState,
  type ProblemFilters,
} from '../../../src/audit/read/queries';
import { QueryError } from '../../../src/storage/errors';
import type { AuditStore } from '../../../src/audit/store';
import type { FindingsRow, ProblemRow, ScanRunRow } from '../../../src/audit/rows/tables';
import { storeOn } from '../support/environment';
import { historyRow, problemRow } from '../support/rows';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1);

let azurite: Azurite;
let store: AuditStore;

const problem = (group: string | undefined, id: string, fields: Partial<ProblemRow> = {}) =>
  problemRow(group, id, { firstSeen: new Date(T0), lastSeen: new Date(T0) }, fields);

const transition = historyRow;

const ROWS: ProblemRow[] = [
  problem('Fleet-A', 'a-1'),
  problem('Fleet-A', 'a-2', { errorCode: 400209 }),
  problem('Fleet-A', 'a-3', {
    status: 'unassigned',
    errorCode: undefined,
    firstSeen: new Date(T0 + 2 * DAY),
  }),
  problem('fleet-b', 'b-1', { status: 'assigning', errorCode: undefined, firstSeen: new Date(T0 + DAY) }),
  problem('fleet-b', 'B-2', {
    open: false,
    resolvedAt: new Date(T0 + 3 * DAY),
    resolution: 'assigned',
    historyStarted: true,
  }),
  problem(undefined, 'Single-1', { status: 'disabled', errorCode: undefined }),
  // A group whose id could be mistaken for the individual partition's name.
  problem('individual', 'i-1'),
];

const ids = (rows: ProblemRow[]) => rows.map((row) => row.registrationId).sort();
const list = async (filters: ProblemFilters) =>
  ids((await listProblems(store, filters, { pageSize: 1000 })).items);

beforeAll(async () => {
  azurite = await startAzurite();
  store = storeOn(azurite);
  await store.ensureTables();
  await store.upsert('problems', ROWS);
  const resolved = ROWS[4]!;
  await store.upsert('history', [
    transition(resolved, 'none', 'failed', T0),
    transition(resolved, 'failed', 'assigned', T0 + 3 * DAY),
    // Another registration whose key starts with the same characters.
    transition(problem('fleet-b', 'b-20', { historyStarted: true }), 'none', 'failed', T0),
  ]);
});

afterAll(async () => {
  await azurite.stop();
});

describe('listProblems', () => {
  it('filters by status, group (case-insensitive), kind, error code, first-seen time and resolution', async () => {
    expect(await list({})).toEqual(ids(ROWS));
    expect(await list({ status: 'failed' })).toEqual(['B-2', 'a-1', 'a-2', 'i-1']);
    expect(await list({ group: 'FLEET-a' })).toEqual(['a-1', 'a-2', 'a-3']);
    expect(await list({ group: 'individual' })).toEqual(['i-1']);
    expect(await list({ kind: 'individual' })).toEqual(['Single-1']);
    expect(await list({ errorCode: 400209 })).toEqual(['a-2']);
    expect(await list({ since: new Date(T0 + DAY) })).toEqual(['a-3', 'b-1']);
    expect(await list({ resolved: true })).toEqual(['B-2']);
    expect(await list({ resolved: false, group: 'fleet-b' })).toEqual(['b-1']);
    expect(await list({ status: 'failed', group: 'fleet-a', errorCode: 400207, resolved: false })).toEqual([
      'a-1',
    ]);
  });

  it('pages with continuation tokens until the last page', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await listProblems(store, {}, { pageSize: 2, continuationToken: token });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((row) => row.registrationId));
      token = page.continuationToken;
      pages++;
    } while (token !== undefined);
    expect(seen.sort()).toEqual(ids(ROWS));
    expect(pages).toBeGreaterThanOrEqual(4);
  });

  it('returns typed rows', async () => {
    const { items } = await listProblems(store, { group: 'fleet-b', resolved: true });
    expect(items).toEqual([ROWS[4]]);
  });

  it('keeps hostile values out of the filter syntax', async () => {
    const hostile = "x' or PartitionKey ne 'x";
    expect(problemsFilter({ group: hostile })).toBe("PartitionKey eq 'x%27%20or%20partitionkey%20ne%20%27x'");
    expect(await list({ group: hostile })).toEqual([]);
    expect(problemsFilter({ kind: 'group', since: new Date(T0), resolved: false })).toBe(
      "enrollmentKind eq 'group' and firstSeen ge datetime'2026-06-01T00:00:00.000Z' and open eq true",
    );
  });

  it('refuses bad filters and page sizes with a clear error', async () => {
    const bad: Array<[ProblemFilters, RegExp]> = [
      [{ status: "failed' or '1' eq '1" }, /status must be one of failed, unassigned, disabled, assigning/],
      [{ errorCode: 1.5 }, /errorCode must be an integer/],
      [{ errorCode: Number.NaN }, /errorCode/],
      [{ since: new Date('nope') }, /since must be a valid date/],
      [{ kind: 'other' as never }, /kind must be/],
      [{ group: ' ' }, /group must not be empty/],
      [{ resolved: 'yes' as never }, /resolved must be true or false/],
    ];
    for (const [filters, message] of bad) {
      await expect(listProblems(store, filters)).rejects.toThrow(message);
    }
    await expect(listProblems(store, {}, { pageSize: 0 })).rejects.toBeInstanceOf(QueryError);
    await expect(listProblems(store, {}, { pageSize: 1001 })).rejects.toThrow(/pageSize/);
  });
});

describe('history', () => {
  it("returns one registration's transitions, oldest first, with or without its group", async () => {
    const expected = [
      expect.objectContaining({ fromStatus: 'none', toStatus: 'failed', registrationId: 'B-2' }),
      expect.objectContaining({ fromStatus: 'failed', toStatus: 'assigned', at: new Date(T0 + 3 * DAY) }),
    ];
    await expect(history(store, 'b-2')).resolves.toEqual(expected);
    await expect(history(store, 'B-2', { group: 'Fleet-B' })).resolves.toEqual(expected);
    await expect(history(store, 'b-2', { group: 'fleet-a' })).resolves.toEqual([]);
  });

  it('gives the first sighting of a problem that has not changed yet, from its problem row', async () => {
    await expect(history(store, 'a-2')).resolves.toEqual([
      expect.objectContaining({
        fromStatus: 'none',
        toStatus: 'failed',
        errorCode: 400209,
        at: new Date(T0),
      }),
    ]);
    await expect(history(store, 'never-seen')).resolves.toEqual([]);
    await expect(history(store, '')).rejects.toBeInstanceOf(QueryError);
  });
});

describe('scans, findings and scan state', () => {
  it('lists the newest scan runs first', async () => {
    const run = (startedAt: number, runId: string): ScanRunRow => ({
      partitionKey: 'runs',
      rowKey: runRowKey(startedAt, runId),
      runId,
      scanId: 'scan-1',
      startedAt: new Date(startedAt),
      endedAt: new Date(startedAt + 1000),
      durationMs: 1000,
      outcome: 'resumable',
      enrollmentGroupsRead: 1,
      individualEnrollmentsRead: 0,
      registrationsRead: 10,
      problemsSeen: 1,
      problemsFound: 1,
      problemsResolved: 0,
      entitiesWritten: 1,
      dpsOperations: 2,
      throttled429: 0,
      dpsRetries: 0,
    });
    await store.upsert('scans', [run(T0, 'first'), run(T0 + 2000, 'third'), run(T0 + 1000, 'second')]);
    expect((await recentScans(store, 2)).map((r) => r.runId)).toEqual(['third', 'second']);
    expect((await recentScans(store)).map((r) => r.runId)).toEqual(['third', 'second', 'first']);
    await expect(recentScans(store, 0)).rejects.toBeInstanceOf(QueryError);
  });

  it('lists findings, all or only those with something to fix', async () => {
    const row = (partitionKey: 'group' | 'individual', id: string, count: number): FindingsRow => ({
      partitionKey,
      rowKey: idKey(id),
      enrollmentId: id,
      allocationPolicy: 'custom',
      provisioningStatus: 'enabled',
      findings: JSON.stringify(count ? [{ code: 'webhook-without-key', message: 'm' }] : []),
      findingCount: count,
      lastChanged: new Date(T0),
      lastSeen: new Date(T0),
    });
    await store.upsert('findings', [
      row('group', 'Fleet-A', 0),
      row('group', 'fleet-b', 1),
      row('individual', 'Single-1', 1),
    ]);
    expect((await findings(store)).map((f) => f.enrollmentId)).toEqual(['Fleet-A', 'fleet-b', 'Single-1']);
    expect((await findings(store, { onlyWithFindings: true })).map((f) => f.enrollmentId)).toEqual([
      'fleet-b',
      'Single-1',
    ]);
    expect((await findings(store, { kind: 'individual' })).map((f) => f.enrollmentId)).toEqual(['Single-1']);
  });

  it('tells where the scan stands and whether a run holds the lease', async () => {
    const fresh = storeOn(azurite);
    await fresh.ensureTables();
    await expect(scanState(fresh)).resolves.toEqual({
      checkpoint: undefined,
      leaseOwner: undefined,
      leaseExpiresAt: undefined,
    });
    const expiresAt = new Date(Date.now() + 60_000);
    const taken = await ScanLease.acquire(fresh, 'run-1', expiresAt, Date.now);
    if (!taken.acquired) throw new Error('not acquired');
    const checkpoint = { scanId: 's', scanStartedAt: new Date(T0), phase: 'individuals' as const, runs: 3 };
    await taken.lease.save(checkpoint);
    await expect(scanState(fresh)).resolves.toEqual({
      checkpoint,
      leaseOwner: 'run-1',
      leaseExpiresAt: expiresAt,
    });
    await expect(scanState(fresh, expiresAt.getTime() + 1)).resolves.toMatchObject({ leaseOwner: undefined });
  });
});

// What the audit tests share: Azurite in-process, the DPS emulator, a client and a store made for tests (tiny
// retry delays, a table prefix of their own per scenario), a clock that can jump past a lease, the ground truth
// read straight from the emulator's store, and a dump of every entity of every audit table.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { startAzurite, type Azurite, type AzuriteOptions } from '../../../dev/azurite';
import { FAST_TIMING, startDpsEmulator, type DpsEmulator } from '../../../dev/dps-emulator';
import { DpsClient, type DpsClientOptions } from '../../../src/dps/client';
import type { Clock } from '../../../src/dps/clock';
import { runScan, type ScanOptions } from '../../../src/audit/scan/scan';
import { AuditStore, type AuditTable } from '../../../src/audit/store';
import type { ScanRunRow } from '../../../src/audit/rows/tables';

export const TABLES: readonly AuditTable[] = ['problems', 'history', 'findings', 'scans', 'state'];
const PROBLEM_STATUSES = new Set(['failed', 'unassigned', 'disabled']);

/** Real time plus an offset a test moves forward, e.g. past the lease of a run that "crashed". */
export class JumpClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
  }
  random(): number {
    return Math.random();
  }
  jump(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface AuditTestEnvironment {
  azurite: Azurite;
  emulator: DpsEmulator;
  newClient(options?: Partial<DpsClientOptions>): DpsClient;
  /** A store on tables of its own (a fresh prefix unless one is given). */
  newStore(prefix?: string): AuditStore;
  stop(): Promise<void>;
}

/** A store on an Azurite instance, with retries short enough for outage tests. */
export function storeOn(
  azurite: Azurite,
  prefix = `T${randomUUID().replace(/-/g, '').slice(0, 12)}`,
): AuditStore {
  return new AuditStore({
    connection: { kind: 'connectionString', connectionString: azurite.connectionString },
    tablePrefix: prefix,
    retry: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
  });
}

export async function startAuditEnvironment(
  azuriteOptions: AzuriteOptions = {},
): Promise<AuditTestEnvironment> {
  const [azurite, emulator] = await Promise.all([
    startAzurite(azuriteOptions),
    startDpsEmulator(FAST_TIMING),
  ]);
  const clients: DpsClient[] = [];
  return {
    azurite,
    emulator,
    newClient(options = {}) {
      const client = new DpsClient({
        connectionString: emulator.serviceConnectionString,
        caCertificate: emulator.caCertificatePem,
        operationsPerMinute: 100_000,
        retry: { baseDelayMs: 1, maxDelayMs: 5, minThrottleDelayMs: 0, maxAttempts: 10 },
        ...options,
      });
      clients.push(client);
      return client;
    },
    newStore: (prefix) => storeOn(azurite, prefix),
    async stop() {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all([azurite.stop(), emulator.stop()]);
    },
  };
}

/** Scan options for tests: generous budgets unless a test narrows them, checkpoints on every page. */
export function testScanOptions(overrides: Partial<ScanOptions> = {}): ScanOptions {
  return {
    timeBudgetMs: 60_000,
    maxOperationsPerRun: 100_000,
    pageSize: 50,
    assigningGraceMinutes: 10,
    lastSeenRefreshHours: 24,
    checkpointIntervalMs: 0,
    ...overrides,
  };
}

/** Runs scans until one completes; every run row, in order. Fails instead of looping forever. */
export async function scanUntilComplete(
  run: () => Promise<ScanRunRow>,
  maxRuns = 100,
): Promise<ScanRunRow[]> {
  const runs: ScanRunRow[] = [];
  while (runs.length < maxRuns) {
    const row = await run();
    runs.push(row);
    if (row.outcome === 'completed') return runs;
    if (row.outcome !== 'resumable')
      throw new Error(`Run ${runs.length} ended ${row.outcome}: ${row.detail}`);
  }
  throw new Error(`The scan did not complete in ${maxRuns} runs`);
}

export function scan(
  client: DpsClient,
  store: AuditStore,
  overrides: Partial<ScanOptions> = {},
): Promise<ScanRunRow> {
  return runScan({ dps: client, store }, testScanOptions(overrides));
}

export interface ExpectedProblem {
  partitionKey: string;
  rowKey: string;
  registrationId: string;
  status: string;
  errorCode: number | undefined;
}

/**
 * The problems the emulator holds now, by the rule: failed, unassigned, disabled, or assigning for longer
 * than the grace period. Keys: lower-case ids (the test's ids need no escaping), `~individual` for individuals.
 */
export function groundTruth(
  emulator: DpsEmulator,
  graceMinutes: number,
  nowMs = Date.now(),
): Map<string, ExpectedProblem> {
  const snapshot = emulator.store.snapshot();
  const groupIds = new Map(
    snapshot.groups.map((group) => [group.value.enrollmentGroupId.toLowerCase(), group]),
  );
  const individuals = new Set(snapshot.individuals.map((e) => e.value.registrationId.toLowerCase()));
  const expected = new Map<string, ExpectedProblem>();
  for (const record of snapshot.registrations) {
    const stuck = record.status === 'assigning' && nowMs - record.updatedMs > graceMinutes * 60_000;
    if (!PROBLEM_STATUSES.has(record.status) && !stuck) continue;
    const groupKey = record.enrollmentGroupKey;
    let partitionKey: string;
    if (groupKey !== undefined && groupIds.has(groupKey)) partitionKey = groupKey;
    else if (groupKey === undefined && individuals.has(record.registrationId.toLowerCase())) {
      partitionKey = '~individual';
    } else continue;
    const rowKey = record.registrationId.toLowerCase();
    expected.set(`${partitionKey}/${rowKey}`, {
      partitionKey,
      rowKey,
      registrationId: record.registrationId,
      status: record.status,
      errorCode: record.status === 'failed' ? record.errorCode : undefined,
    });
  }
  return expected;
}

export type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string; etag: string };

/** Every entity of one table (raw, as the SDK returns it). */
export async function entitiesOf(store: AuditStore, table: AuditTable): Promise<Entity[]> {
  const entities: Entity[] = [];
  for await (const entity of store.client(table).listEntities()) entities.push(entity as Entity);
  return entities;
}

/** The open problem rows, keyed as groundTruth keys them. */
export async function openProblems(store: AuditStore): Promise<Map<string, ExpectedProblem>> {
  const rows = new Map<string, ExpectedProblem>();
  for (const entity of await entitiesOf(store, 'problems')) {
    if (entity.open !== true) continue;
    rows.set(`${entity.partitionKey}/${entity.rowKey}`, {
      partitionKey: entity.partitionKey,
      rowKey: entity.rowKey,
      registrationId: String(entity.registrationId),
      status: String(entity.status),
      errorCode: entity.errorCode as number | undefined,
    });
  }
  return rows;
}

/** Sorted `key=value` strings of a map, for readable equality failures. */
export function describeRows(rows: Map<string, ExpectedProblem>): string[] {
  return [...rows.values()]
    .map((row) => `${row.partitionKey}/${row.rowKey} ${row.status} ${row.errorCode ?? '-'}`)
    .sort();
}

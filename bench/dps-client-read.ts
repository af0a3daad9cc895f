// The DPS client's read rate (issue 3): registration states read per second from one enrollment group of
// 100,000 registrations, page after page, with this project's DpsClient and, as a peer, the official service SDK.
// The emulator (seeded at start) runs in a child process, so the client's event loop is its own; the two
// processes still share the machine's cores.
import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import { createSdkServiceClient } from '../dev/dps-emulator/sdk-clients';
import { DpsClient } from '../src/dps/client';
import { figure, formatValue, type BenchModule, type BenchOptions, type Figure } from './figures';
import { median } from './stats';
import { childUsage, stopBenchChild, type BenchChild } from './support/child-process';
import { startEmulatorChild } from './support/dps-children';
import type { EmulatorReady, EmulatorUsage } from './support/emulator-child';
import { createKeepAliveSdkServiceClient } from './support/sdk-service-client';

const SEEDED: Record<string, number> = {
  assigned: 90_000,
  failed: 6_000,
  unassigned: 2_000,
  assigning: 1_000,
  disabled: 1_000,
};
const PAGE_SIZES = [1000, 100] as const; // 1,000: the emulator's largest page (DPS's is UNCONFIRMED)
/** The bench lifts the client's DPS operations budget (default 500/min) so that it measures reading only. */
const BENCH_OPERATIONS_PER_MINUTE = 1_000_000;
const DEFAULT_OPERATIONS_PER_MINUTE = 500;
const WARMUP_PAGES = 20;

interface ReadPass {
  elapsedMs: number;
  registrations: number;
  pages: number;
  /** DPS operations the client counted (DpsClient only). */
  operations: number;
  retries: number;
  throttled: number;
  budgetWaitMs: number;
  clientCpuMicros: number;
  emulatorCpuMicros: number;
}

/** Reads a group in full (or its first `maxPages`); returns the states per status and the pages read. */
type GroupReader = (
  pageSize: number,
  maxPages?: number,
) => Promise<{ perStatus: Map<string, number>; pages: number }>;

function tally(perStatus: Map<string, number>, status: string | null | undefined): void {
  const key = status ?? 'none';
  perStatus.set(key, (perStatus.get(key) ?? 0) + 1);
}

function dpsClientReader(client: DpsClient, groupId: string): GroupReader {
  return async (pageSize, maxPages = Number.POSITIVE_INFINITY) => {
    const perStatus = new Map<string, number>();
    let pages = 0;
    for await (const page of client.registrationStatePages(groupId, { pageSize })) {
      pages++;
      for (const state of page.items) tally(perStatus, state.status);
      if (pages >= maxPages) break;
    }
    return { perStatus, pages };
  };
}

function sdkReader(client: ProvisioningServiceClient, groupId: string): GroupReader {
  return async (pageSize, maxPages = Number.POSITIVE_INFINITY) => {
    const perStatus = new Map<string, number>();
    let pages = 0;
    const query = client.createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, groupId, pageSize);
    do {
      // next() without the token would repeat the first page (docs/dps-contract.md §7.1).
      const page = await query.next(query.continuationToken);
      pages++;
      for (const state of page.responseBody as unknown as { status?: string }[])
        tally(perStatus, state.status);
    } while (query.hasMoreResults && pages < maxPages);
    return { perStatus, pages };
  };
}

function assertComplete(perStatus: Map<string, number>, what: string): number {
  const read = [...perStatus.values()].reduce((sum, n) => sum + n, 0);
  const wrong = Object.entries(SEEDED).filter(([status, n]) => perStatus.get(status) !== n);
  if (wrong.length > 0 || read !== totalSeeded()) {
    const got = JSON.stringify(Object.fromEntries(perStatus));
    throw new Error(`${what} read ${read} registration states ${got}, expected ${JSON.stringify(SEEDED)}`);
  }
  return read;
}

function totalSeeded(): number {
  return Object.values(SEEDED).reduce((sum, n) => sum + n, 0);
}

async function measurePass(
  emulator: BenchChild<EmulatorReady>,
  read: GroupReader,
  pageSize: number,
  what: string,
  client?: DpsClient,
): Promise<ReadPass> {
  client?.resetStats();
  const emulatorBefore = await childUsage<EmulatorUsage>(emulator);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { perStatus, pages } = await read(pageSize);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const emulatorAfter = await childUsage<EmulatorUsage>(emulator);
  const stats = client?.stats();
  return {
    elapsedMs,
    registrations: assertComplete(perStatus, what),
    pages,
    operations: stats?.operations ?? Number.NaN,
    retries: stats?.retries ?? 0,
    throttled: stats?.throttled ?? 0,
    budgetWaitMs: stats?.budgetWaitMs ?? 0,
    clientCpuMicros: cpu.user + cpu.system,
    emulatorCpuMicros: emulatorAfter.cpuMicros - emulatorBefore.cpuMicros,
  };
}

async function measureReader(
  emulator: BenchChild<EmulatorReady>,
  read: GroupReader,
  pageSize: number,
  passes: number,
  what: string,
  client?: DpsClient,
): Promise<ReadPass[]> {
  await read(pageSize, WARMUP_PAGES);
  const results: ReadPass[] = [];
  for (let i = 0; i < passes; i++) results.push(await measurePass(emulator, read, pageSize, what, client));
  return results;
}

function defaultBudgetNote(operations: number): string {
  if (operations <= DEFAULT_OPERATIONS_PER_MINUTE) {
    return `within the client's default budget of ${DEFAULT_OPERATIONS_PER_MINUTE} operations/min (DPS allows 1,000/min)`;
  }
  const minutes = Math.floor((operations - 1) / DEFAULT_OPERATIONS_PER_MINUTE);
  return `with the client's default budget of ${DEFAULT_OPERATIONS_PER_MINUTE} operations/min this read would take at least ${minutes} min`;
}

function rates(passes: readonly ReadPass[]): number[] {
  return passes.map((p) => (1000 * p.registrations) / p.elapsedMs);
}

/** Median CPU milliseconds per 1,000 registration states. */
function cpuPerThousand(passes: readonly ReadPass[], micros: (p: ReadPass) => number): number {
  return median(passes.map((p) => micros(p) / p.registrations));
}

function rateNote(passes: readonly ReadPass[]): string {
  const r = rates(passes);
  const range =
    passes.length > 1 ? `, range ${formatValue(Math.min(...r))}-${formatValue(Math.max(...r))}/s` : '';
  return `median of ${passes.length} full read(s) after a ${WARMUP_PAGES}-page warm-up${range}`;
}

/** The DpsClient's figures for one page size: rate, elapsed, DPS operations, CPU. */
function clientFigures(pageSize: number, passes: ReadPass[], setupNote: string | undefined): Figure[] {
  const first = passes[0]!;
  const at = `page size ${formatValue(pageSize)}`;
  return [
    figure(`DpsClient: registration states read/s, ${at}`, median(rates(passes)), '/s', {
      note: setupNote ? `${rateNote(passes)}; ${setupNote}` : rateNote(passes),
    }),
    figure(`DpsClient: full read of the group, ${at}`, median(passes.map((p) => p.elapsedMs)), 'ms', {
      note: `${formatValue(first.registrations)} registration states in ${formatValue(first.pages)} pages`,
    }),
    figure(
      `DpsClient: DPS operations per full read (client.stats()), ${at}`,
      first.operations,
      'operations',
      {
        note:
          `retries ${first.retries}, 429s ${first.throttled}, budget wait ${first.budgetWaitMs} ms; ` +
          defaultBudgetNote(first.operations),
      },
    ),
    figure(
      `DpsClient: CPU per 1,000 states read, ${at}`,
      cpuPerThousand(passes, (p) => p.clientCpuMicros),
      'ms',
      {
        note: `DPS emulator (child process): ${cpuPerThousand(passes, (p) => p.emulatorCpuMicros).toFixed(2)} ms per 1,000 states served`,
      },
    ),
  ];
}

/** A peer's figures for one page size: the rate, with elapsed time and CPU in its note. */
function peerFigure(label: string, pageSize: number, passes: ReadPass[], wiring: string): Figure {
  const first = passes[0]!;
  const elapsed = median(passes.map((p) => p.elapsedMs));
  return figure(
    `${label}: registration states read/s, page size ${formatValue(pageSize)}`,
    median(rates(passes)),
    '/s',
    {
      note:
        `${rateNote(passes)}; ${formatValue(Math.round(elapsed))} ms for ${formatValue(first.pages)} pages; ` +
        `CPU per 1,000 states: ${cpuPerThousand(passes, (p) => p.clientCpuMicros).toFixed(2)} ms here, ` +
        `${cpuPerThousand(passes, (p) => p.emulatorCpuMicros).toFixed(2)} ms in the emulator; ${wiring}`,
    },
  );
}

export async function measureClientRead(options: BenchOptions): Promise<Figure[]> {
  const passes = options.quick ? 1 : 3;
  const perGroup = Object.entries(SEEDED)
    .map(([status, n]) => `${status}=${n}`)
    .join(',');
  const emulator = await startEmulatorChild(['--seed-groups', '1', '--seed-per-group', perGroup]);
  try {
    const seed = emulator.ready.seed;
    const groupId = seed?.groupIds[0];
    if (!seed || groupId === undefined) throw new Error('the emulator did not seed a group');
    const setupNote =
      `one group of ${formatValue(seed.registrations)} registrations (${perGroup}), seeded in ` +
      `${Math.round(seed.durationMs)} ms; emulator in a child process (pid ${emulator.process.pid}), reader in ` +
      `this process (pid ${process.pid}), sharing the machine's cores; the client's operationsPerMinute is ` +
      `${formatValue(BENCH_OPERATIONS_PER_MINUTE)} for the bench (default ${DEFAULT_OPERATIONS_PER_MINUTE})`;
    const figures: Figure[] = [];

    const client = new DpsClient({
      connectionString: emulator.ready.serviceConnectionString,
      caCertificate: emulator.ready.caCertificatePem,
      operationsPerMinute: BENCH_OPERATIONS_PER_MINUTE,
    });
    try {
      const read = dpsClientReader(client, groupId);
      for (const pageSize of PAGE_SIZES) {
        const results = await measureReader(emulator, read, pageSize, passes, 'DpsClient', client);
        figures.push(...clientFigures(pageSize, results, pageSize === PAGE_SIZES[0] ? setupNote : undefined));
      }
    } finally {
      await client.close();
    }

    const sdk = createKeepAliveSdkServiceClient(emulator.ready, emulator.ready.sdkServiceConnectionString);
    try {
      const read = sdkReader(sdk.client, groupId);
      for (const pageSize of PAGE_SIZES) {
        const results = await measureReader(emulator, read, pageSize, passes, 'service SDK');
        const wiring =
          "azure-iot-provisioning-service, query + next(continuationToken), keep-alive agent (as Node's global agent)";
        figures.push(peerFigure('official service SDK', pageSize, results, wiring));
      }
    } finally {
      sdk.close();
    }
    // As dev/dps-emulator/sdk-clients.ts wires it for tests: a new TLS connection for every request.
    const testWired = sdkReader(
      createSdkServiceClient(emulator.ready, emulator.ready.sdkServiceConnectionString),
      groupId,
    );
    for (const pageSize of PAGE_SIZES) {
      const results = await measureReader(emulator, testWired, pageSize, passes, 'service SDK');
      const wiring = "createSdkServiceClient's agent: no keep-alive, one TLS handshake per page";
      figures.push(peerFigure('official service SDK, no keep-alive', pageSize, results, wiring));
    }
    return figures;
  } finally {
    await stopBenchChild(emulator.process);
  }
}

export const clientReadBench: BenchModule = {
  name: 'client-read',
  description:
    "DpsClient registration states read/s from a 100,000-registration group (and the service SDK's)",
  run: measureClientRead,
};

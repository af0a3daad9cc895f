// The audit scan benchmark (issue 4): registrations audited per second end to end, peak RSS, DPS operations per
// 1,000 registrations and table entities written on a first scan and a rescan, for this project's audit (runScan)
// and for a peer written on the official azure-iot-provisioning-service SDK with single upserts, on the same data.
// Every party has a process of its own: the DPS emulator (seeded at start), Azurite (a fresh one per scanner, so
// each starts from empty tables and an unloaded storage process) and each scanner (so its peak RSS is its own).
// They share the machine's cores. Then the audit's peak RSS from 25,000 to 400,000 registrations: is it flat as N grows?
import { randomUUID } from 'node:crypto';
import { DpsClient } from '../src/dps/client';
import { figure, formatValue, type BenchModule, type BenchOptions, type Figure } from './figures';
import { median } from './stats';
import {
  startAzuriteChild,
  requestScan,
  startScannerChild,
  type ScannerKind,
} from './support/audit-children';
import type { AzuriteUsage } from './support/azurite-child';
import { childUsage, stopBenchChild, type BenchChild } from './support/child-process';
import { startEmulatorChild } from './support/dps-children';
import type { EmulatorReady, EmulatorUsage } from './support/emulator-child';
import {
  AUDIT_BENCH_SETTINGS,
  type MemorySample,
  type ScanReport,
  type ScanRequest,
} from './support/scanner-protocol';

/** Status mix of every group: 80% assigned, the rest problems. */
const STATUS_SHARES = { assigned: 0.8, failed: 0.12, unassigned: 0.04, assigning: 0.02, disabled: 0.02 };
const PROBLEM_STATUSES = ['failed', 'unassigned', 'assigning', 'disabled'] as const;
/** The emulator's largest page (x-ms-max-item-count is clamped to 1,000; DPS's own maximum is UNCONFIRMED). */
const PAGE_SIZE = 1000;
/** 0: every seeded `assigning` state counts as stuck, so the problem set does not depend on when a scan runs. */
const ASSIGNING_GRACE_MINUTES = 0;
const DPS_OPERATIONS_PER_MINUTE = 1000;
const DEFAULT_AUDIT_OPERATIONS_PER_MINUTE = 500;
const SCAN_TIMEOUT_MS = 30 * 60_000;
/** Groups read once before the first scanner, so that it does not also pay for the emulator's warm-up. */
const WARM_UP_GROUPS = 5;
const MIB = 2 ** 20;
/** Runs per dataset (medians are reported): peak RSS varies by GC timing, short scans by other load. */
const AUDIT_RUNS = 3;
/** The peers' runs (one with --quick); only the first rescans. */
const PEER_RUNS = 3;

interface Dataset {
  groups: number;
  perGroup: number;
}

const registrationsOf = (data: Dataset) => data.groups * data.perGroup;

/** Per-status counts of one group, summing to perGroup (assigned takes the rounding). */
function perGroupCounts(perGroup: number): Record<keyof typeof STATUS_SHARES, number> {
  const counts = { assigned: 0, failed: 0, unassigned: 0, assigning: 0, disabled: 0 };
  for (const status of PROBLEM_STATUSES) counts[status] = Math.round(perGroup * STATUS_SHARES[status]);
  counts.assigned = perGroup - PROBLEM_STATUSES.reduce((sum, status) => sum + counts[status], 0);
  return counts;
}

function problemsOf(data: Dataset): number {
  const counts = perGroupCounts(data.perGroup);
  return data.groups * PROBLEM_STATUSES.reduce((sum, status) => sum + counts[status], 0);
}

function seedSpec(perGroup: number): string {
  return Object.entries(perGroupCounts(perGroup))
    .map(([status, n]) => `${status}=${n}`)
    .join(',');
}

async function startSeededEmulator(data: Dataset): Promise<BenchChild<EmulatorReady>> {
  const emulator = await startEmulatorChild([
    '--seed-groups',
    String(data.groups),
    '--seed-per-group',
    seedSpec(data.perGroup),
  ]);
  const seeded = emulator.ready.seed?.registrations;
  if (seeded !== registrationsOf(data)) {
    await stopBenchChild(emulator.process);
    throw new Error(`the emulator seeded ${seeded} registrations, expected ${registrationsOf(data)}`);
  }
  return emulator;
}

interface ScannerSpec {
  kind: ScannerKind;
  label: string;
  /** What it writes, for the figures' notes. */
  writes: string;
  /** Peer only: one history row per problem besides the problem row. */
  historyRows: boolean;
  rescan: boolean;
}

/** One scan as all three processes saw it. */
interface ScanMeasure {
  report: ScanReport;
  /** DPS requests the emulator served, all routes. */
  emulatorCalls: number;
  emulatorCpuMicros: number;
  azuriteRequests: number;
  azuriteCpuMicros: number;
}

interface ScannerResult {
  spec: ScannerSpec;
  data: Dataset;
  readyRssBytes: number;
  first: ScanMeasure;
  rescan: ScanMeasure | undefined;
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((total, n) => total + n, 0);

/** A scanner in a fresh child, against a fresh Azurite child (empty tables, a fresh table prefix). */
async function runScanner(
  emulator: BenchChild<EmulatorReady>,
  data: Dataset,
  spec: ScannerSpec,
): Promise<ScannerResult> {
  const azurite = await startAzuriteChild();
  try {
    const scanner = await startScannerChild(spec.kind, spec.label);
    try {
      const request: ScanRequest = {
        type: 'scan',
        dps: {
          serviceConnectionString: emulator.ready.serviceConnectionString,
          sdkServiceConnectionString: emulator.ready.sdkServiceConnectionString,
          port: emulator.ready.port,
          caCertificatePem: emulator.ready.caCertificatePem,
        },
        storageConnectionString: azurite.ready.connectionString,
        tablePrefix: `Bench${randomUUID().replace(/-/g, '').slice(0, 12)}`,
        pageSize: PAGE_SIZE,
        assigningGraceMinutes: ASSIGNING_GRACE_MINUTES,
        historyRows: spec.historyRows,
      };
      const measure = async (): Promise<ScanMeasure> => {
        const emulatorBefore = await childUsage<EmulatorUsage>(emulator); // also resets its counters
        const azuriteBefore = await childUsage<AzuriteUsage>(azurite);
        const report = await requestScan(scanner, request, SCAN_TIMEOUT_MS);
        const emulatorAfter = await childUsage<EmulatorUsage>(emulator);
        const azuriteAfter = await childUsage<AzuriteUsage>(azurite);
        return {
          report,
          emulatorCalls: sum(emulatorAfter.stats.calls),
          emulatorCpuMicros: emulatorAfter.cpuMicros - emulatorBefore.cpuMicros,
          azuriteRequests: azuriteAfter.requests,
          azuriteCpuMicros: azuriteAfter.cpuMicros - azuriteBefore.cpuMicros,
        };
      };
      const first = await measure();
      checkScan(spec.label, data, first.report);
      const rescan = spec.rescan ? await measure() : undefined;
      if (rescan) checkScan(`${spec.label} (rescan)`, data, rescan.report);
      return { spec, data, readyRssBytes: scanner.ready.rssBytes, first, rescan };
    } finally {
      await stopBenchChild(scanner.process);
    }
  } finally {
    await stopBenchChild(azurite.process);
  }
}

/** Both scanners must have read every registration and seen the same problems, or the comparison is void. */
function checkScan(label: string, data: Dataset, report: ScanReport): void {
  if (report.registrations !== registrationsOf(data) || report.problems !== problemsOf(data)) {
    throw new Error(
      `${label} read ${report.registrations} registrations and saw ${report.problems} problems; expected ` +
        `${registrationsOf(data)} and ${problemsOf(data)}`,
    );
  }
}

/** Reads a few groups once, so that the first scanner does not also pay for the emulator's warm-up. */
async function warmUpEmulator(emulator: BenchChild<EmulatorReady>): Promise<void> {
  const client = new DpsClient({
    connectionString: emulator.ready.serviceConnectionString,
    caCertificate: emulator.ready.caCertificatePem,
    operationsPerMinute: AUDIT_BENCH_SETTINGS.operationsPerMinute,
  });
  try {
    for (const groupId of emulator.ready.seed?.groupIds.slice(0, WARM_UP_GROUPS) ?? []) {
      for await (const page of client.registrationStatePages(groupId, { pageSize: PAGE_SIZE })) void page;
    }
  } finally {
    await client.close();
  }
}

// ---- figures ---------------------------------------------------------------------------------------------------

/** Runs of one scanner on one dataset: figures are medians over the runs (DPS and write counts are the same in each). */
interface Series {
  spec: ScannerSpec;
  data: Dataset;
  runs: ScannerResult[];
}

const rate = (m: ScanMeasure) => (1000 * m.report.registrations) / m.report.elapsedMs;
const mib = (bytes: number) => bytes / MIB;
const perThousand = (value: number, registrations: number) => (1000 * value) / registrations;
const cpuMsPerThousand = (micros: number, registrations: number) => micros / registrations;
const firstRate = (run: ScannerResult) => rate(run.first);
const firstPeak = (run: ScannerResult) => run.first.report.maxRssBytes;
const retained = (run: ScannerResult) => run.first.report.heapAfterGcBytes;
/** Peak RSS above the RSS the scanner had once its modules were loaded. */
const growth = (run: ScannerResult) => run.first.report.maxRssBytes - run.readyRssBytes;
const medianOf = (series: Series, value: (run: ScannerResult) => number) => median(series.runs.map(value));

/** The run with the median first-scan rate: its CPU and counts stand for the series. */
function representative(series: Series): ScannerResult {
  const sorted = [...series.runs].sort((a, b) => firstRate(a) - firstRate(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** ", median of 3 runs, range 1-2 /s" or '' for a single run. */
function spread(series: Series, value: (run: ScannerResult) => number, unit: string, digits = 0): string {
  if (series.runs.length < 2) return '';
  const values = series.runs.map(value);
  const show = (v: number) => (digits === 0 ? formatValue(Math.round(v)) : v.toFixed(digits));
  return `; median of ${values.length} runs, range ${show(Math.min(...values))}-${show(Math.max(...values))} ${unit}`;
}

function cpuNote(m: ScanMeasure): string {
  const n = m.report.registrations;
  return (
    `CPU ms per 1,000 registrations: scanner ${cpuMsPerThousand(m.report.cpuMicros, n).toFixed(1)}, ` +
    `DPS emulator ${cpuMsPerThousand(m.emulatorCpuMicros, n).toFixed(1)}, ` +
    `Azurite ${cpuMsPerThousand(m.azuriteCpuMicros, n).toFixed(1)}`
  );
}

/** Where a process's memory was at its sampled peak, in MiB. */
function peakComposition(sample: MemorySample): string {
  const part = (bytes: number) => mib(bytes).toFixed(1);
  return (
    `RSS ${part(sample.rssBytes)}: V8 new space ${part(sample.newSpaceBytes)}, old space ${part(sample.oldSpaceBytes)}, ` +
    `other spaces ${part(sample.otherSpacesBytes)}, V8 malloc ${part(sample.v8MallocBytes)} ` +
    `(most so far ${part(sample.v8PeakMallocBytes)}), external ${part(sample.externalBytes)}`
  );
}

function minutesAt(operations: number, perMinute: number): string {
  const seconds = (60 * operations) / perMinute;
  return seconds < 120 ? `${formatValue(seconds)} s` : `${formatValue(seconds / 60)} min`;
}

function scannerFigures(series: Series): Figure[] {
  const { spec, data } = series;
  const { first } = representative(series);
  const rescanRuns = series.runs.filter((run) => run.rescan !== undefined);
  const rescan = rescanRuns[0]?.rescan;
  const rescanMedian = (value: (measure: ScanMeasure) => number) =>
    median(rescanRuns.map((run) => value(run.rescan!)));
  const n = first.report.registrations;
  const name = spec.label;
  const figures: Figure[] = [
    figure(`${name}: registrations audited/s, first scan end to end`, medianOf(series, firstRate), '/s', {
      note:
        `${formatValue(n)} registrations in ${data.groups} groups, ${formatValue(first.report.problems)} problems` +
        `${spread(series, firstRate, '/s')}; ${cpuNote(first)}; writes: ${spec.writes}`,
    }),
    figure(
      `${name}: first scan wall time`,
      medianOf(series, (run) => run.first.report.elapsedMs / 1000),
      's',
    ),
    figure(`${name}: peak RSS of the scanner process`, mib(medianOf(series, firstPeak)), 'MiB', {
      note:
        `process.resourceUsage().maxRSS after the first scan${spread(series, (run) => mib(firstPeak(run)), 'MiB', 1)}` +
        `; RSS once its modules were loaded ${mib(medianOf(series, (run) => run.readyRssBytes)).toFixed(1)} MiB` +
        `; V8 heap retained after the scan (after a full GC) ${mib(medianOf(series, retained)).toFixed(1)} MiB` +
        (rescan
          ? `; peak after the rescan ${mib(rescanMedian((m) => m.report.maxRssBytes)).toFixed(1)} MiB`
          : '') +
        `; at the highest sampled RSS (${peakComposition(representative(series).first.report.atPeak)})`,
    }),
    figure(
      `${name}: DPS operations per 1,000 registrations`,
      perThousand(first.emulatorCalls, n),
      'operations',
      {
        note:
          `${formatValue(first.emulatorCalls)} requests served by the emulator (the scanner counted ` +
          `${formatValue(first.report.dpsOperations)}); at DPS's ${formatValue(DPS_OPERATIONS_PER_MINUTE)} ` +
          `operations/min this scan takes at least ${minutesAt(first.emulatorCalls, DPS_OPERATIONS_PER_MINUTE)}, ` +
          `at the audit's default budget of ${DEFAULT_AUDIT_OPERATIONS_PER_MINUTE}/min at least ` +
          minutesAt(first.emulatorCalls, DEFAULT_AUDIT_OPERATIONS_PER_MINUTE),
      },
    ),
    figure(`${name}: table entities written, first scan`, first.report.entitiesWritten, 'entities', {
      note: `${formatValue(first.azuriteRequests)} storage requests (Azurite-counted, all tables)${first.report.detail ? `; ${first.report.detail}` : ''}`,
    }),
  ];
  if (rescan) {
    const rescanMs = rescanMedian((m) => m.report.elapsedMs);
    figures.push(
      figure(`${name}: table entities written, rescan`, rescan.report.entitiesWritten, 'entities', {
        note:
          `unchanged data; ${formatValue(rescan.azuriteRequests)} storage requests; rescan took ` +
          `${formatValue(Math.round(rescanMs))} ms (${formatValue((1000 * n) / rescanMs)} registrations/s)`,
      }),
    );
  }
  return figures;
}

function comparisonFigures(ours: Series, peer: Series): Figure[] {
  const oursRate = medianOf(ours, firstRate);
  const peerRate = medianOf(peer, firstRate);
  const oursPeak = medianOf(ours, firstPeak);
  const peerPeak = medianOf(peer, firstPeak);
  return [
    figure(`throughput, ${ours.spec.label} / ${peer.spec.label}`, oursRate / peerRate, 'x', {
      goal: { atLeast: 3 },
      note: `${formatValue(oursRate)} vs ${formatValue(peerRate)} registrations/s (first scan)`,
    }),
    figure(`peak RSS, ${ours.spec.label} / ${peer.spec.label}`, oursPeak / peerPeak, 'x', {
      goal: { atMost: 1 },
      note:
        `${mib(oursPeak).toFixed(1)} vs ${mib(peerPeak).toFixed(1)} MiB (goal: lower); above the RSS with ` +
        `modules loaded: +${mib(medianOf(ours, growth)).toFixed(1)} vs +${mib(medianOf(peer, growth)).toFixed(1)} MiB`,
    }),
  ];
}

/** Least-squares slope of peak RSS over registrations, in MiB per 10,000 registrations. */
function slopePerTenThousand(points: ReadonlyArray<{ registrations: number; mib: number }>): number {
  const xs = points.map((p) => p.registrations / 10_000);
  const ys = points.map((p) => p.mib);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
  let numerator = 0;
  let denominator = 0;
  xs.forEach((x, i) => {
    numerator += (x - meanX) * (ys[i]! - meanY);
    denominator += (x - meanX) ** 2;
  });
  return numerator / denominator;
}

/** Memory flat as N grows: at most 1 MiB per 10,000 (a scan holding every state, ~1 KiB each, shows ~10). */
const FLAT_SLOPE_MIB_PER_10K = 1;

function memoryFigures(points: readonly Series[], peer: Series): Figure[] {
  const sorted = [...points].sort((a, b) => registrationsOf(a.data) - registrationsOf(b.data));
  const figures = sorted.map((series) =>
    figure(
      `audit: peak RSS at N = ${formatValue(registrationsOf(series.data))}`,
      mib(medianOf(series, firstPeak)),
      'MiB',
      {
        note:
          `${series.data.groups} groups x ${formatValue(series.data.perGroup)}` +
          `${spread(series, (run) => mib(firstPeak(run)), 'MiB', 1)}; V8 heap retained after the scan ` +
          `${mib(medianOf(series, retained)).toFixed(1)} MiB; first scan ` +
          `${formatValue(Math.round(medianOf(series, (run) => run.first.report.elapsedMs)))} ms ` +
          `(${formatValue(medianOf(series, firstRate))}/s)`,
      },
    ),
  );
  if (sorted.length > 1) {
    const points = (value: (run: ScannerResult) => number) =>
      sorted.map((series) => ({
        registrations: registrationsOf(series.data),
        mib: mib(medianOf(series, value)),
      }));
    figures.push(
      figure('audit: peak RSS slope', slopePerTenThousand(points(firstPeak)), 'MiB per 10k registrations', {
        goal: { atMost: FLAT_SLOPE_MIB_PER_10K },
        note:
          `least squares over the ${sorted.length} medians above (${sorted.map((p) => p.data.groups).join('/')} ` +
          `groups of ${formatValue(sorted[0]!.data.perGroup)}: every page alike, only the scan's length grows)`,
      }),
      figure(
        'audit: retained heap slope',
        slopePerTenThousand(points(retained)),
        'MiB per 10k registrations',
        { note: 'the same over the V8 heap retained after each scan (after a full GC): what the scan keeps' },
      ),
    );
  }
  figures.push(
    figure(
      `${peer.spec.label}: peak RSS at N = ${formatValue(registrationsOf(peer.data))}`,
      mib(medianOf(peer, firstPeak)),
      'MiB',
    ),
  );
  return figures;
}

// ---- the run ---------------------------------------------------------------------------------------------------

const OURS: ScannerSpec = {
  kind: 'audit',
  label: 'audit',
  writes:
    'diff-based batches: a new problem is its problem row and its first-sighting history row, plus one findings ' +
    'row per group',
  historyRows: false,
  rescan: true,
};
const PEER: ScannerSpec = {
  kind: 'sdk',
  label: 'SDK peer',
  writes: 'one awaited upsertEntity of a problem row and one of a history row per problem, again on a rescan',
  historyRows: true,
  rescan: true,
};
async function onDataset<T>(
  data: Dataset,
  run: (emulator: BenchChild<EmulatorReady>) => Promise<T>,
): Promise<T> {
  const emulator = await startSeededEmulator(data);
  try {
    await warmUpEmulator(emulator);
    return await run(emulator);
  } finally {
    await stopBenchChild(emulator.process);
  }
}

/**
 * Runs a scanner `runs` times, each in a fresh scanner process against a fresh Azurite; with `rescanOnce` only
 * the first run also rescans (a peer's rescan takes as long as its first scan and tells nothing new when repeated).
 */
async function series(
  emulator: BenchChild<EmulatorReady>,
  data: Dataset,
  spec: ScannerSpec,
  runs: number,
  rescanOnce = false,
): Promise<Series> {
  const results: ScannerResult[] = [];
  for (let i = 0; i < runs; i++) {
    const rescan = spec.rescan && (i === 0 || !rescanOnce);
    results.push(await runScanner(emulator, data, { ...spec, rescan }));
  }
  return { spec, data, runs: results };
}

export async function measureAudit(options: BenchOptions): Promise<Figure[]> {
  const main: Dataset = options.quick ? { groups: 10, perGroup: 1000 } : { groups: 100, perGroup: 1000 };
  const peerRuns = options.quick ? 1 : PEER_RUNS;
  // Memory as N grows: more groups of the same 1,000 (every page alike), so only the scan's length changes.
  const smaller: Dataset[] = options.quick
    ? []
    : [25, 50, 200, 400].map((groups) => ({ groups, perGroup: 1000 }));

  const [ours, peer] = await onDataset(main, async (emulator) => [
    await series(emulator, main, OURS, AUDIT_RUNS),
    await series(emulator, main, PEER, peerRuns, true),
  ]);
  const memoryPoints = [ours];
  for (const data of smaller) {
    const point = await onDataset(data, (emulator) =>
      series(emulator, data, { ...OURS, rescan: false }, AUDIT_RUNS),
    );
    memoryPoints.push(point);
  }

  const setup = figure('registrations in DPS (emulator)', registrationsOf(main), 'registrations', {
    note:
      `${main.groups} groups x ${formatValue(main.perGroup)} (${seedSpec(main.perGroup)}), no individual ` +
      `enrollments; page size ${PAGE_SIZE} (the emulator's maximum); assigning grace ${ASSIGNING_GRACE_MINUTES} min. ` +
      `audit: runScan with DpsClient operationsPerMinute ${formatValue(AUDIT_BENCH_SETTINGS.operationsPerMinute)} ` +
      `(DPS allows ${formatValue(DPS_OPERATIONS_PER_MINUTE)}), time budget ${AUDIT_BENCH_SETTINGS.timeBudgetMs / 60_000} min ` +
      `and ${formatValue(AUDIT_BENCH_SETTINGS.maxOperationsPerRun)} operations per run (one run scans all). ` +
      `Peers: azure-iot-provisioning-service (keep-alive agent) queries paged with next(continuationToken), ` +
      `@azure/data-tables upsertEntity. The emulator, each scanner and each scanner's own fresh Azurite run in ` +
      `separate processes; scanners run one after another, after a ${WARM_UP_GROUPS}-group warm-up read of the ` +
      `emulator. Figures are medians: the audit runs ${AUDIT_RUNS} times, each peer ${peerRuns} time(s), ` +
      `each run in a fresh scanner process with a fresh Azurite; a peer rescans in its first run only`,
  });
  return [
    setup,
    ...scannerFigures(ours),
    ...scannerFigures(peer),
    ...comparisonFigures(ours, peer),
    ...memoryFigures(memoryPoints, peer),
  ];
}

export const auditBench: BenchModule = {
  name: 'audit',
  description:
    'audit scan of 100,000 registrations in 100 groups: registrations/s, peak RSS, DPS operations, entities written; official-SDK peer',
  run: measureAudit,
};

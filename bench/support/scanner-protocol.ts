// The audit benchmark's scanner children (bench/support/audit-scanner-child.ts: this project's audit;
// bench/support/sdk-scanner-child.ts: the official-SDK peer). Each scanner runs in a process of its own, so its
// peak RSS is its own. Protocol on top of bench/support/child-process.ts: the child sends `{type: 'ready'}` once
// its modules are loaded; the parent sends ScanRequests one at a time and gets a ScanReport (or ScanFailure) for
// each; 'stop' or a disconnect ends the child. The parent side is bench/support/audit-children.ts; this module
// (light: no project or SDK imports) is what both sides share.
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How the bench runs this project's scan (bench/audit.ts prints them). */
export const AUDIT_BENCH_SETTINGS = {
  /** DPS throttles at 1,000 operations/min (default client budget 500): lifted so that the bench measures the scan. */
  operationsPerMinute: 1_000_000,
  /** Budgets (AUDIT_TIME_BUDGET_SECONDS, AUDIT_MAX_OPERATIONS_PER_RUN) no bench run reaches: one run does it all. */
  timeBudgetMs: 60 * 60_000,
  maxOperationsPerRun: 1_000_000,
  /** The default: an unchanged open problem is not rewritten on a rescan within a day. */
  lastSeenRefreshHours: 24,
} as const;

export interface ScannerReady {
  type: 'ready';
  /** RSS once the scanner's modules are loaded, before any scan. */
  rssBytes: number;
}

export interface ScanRequest {
  type: 'scan';
  /** The DPS emulator: this project's connection string, the SDK's (`HostName=localhost`), port and CA. */
  dps: {
    serviceConnectionString: string;
    sdkServiceConnectionString: string;
    port: number;
    caCertificatePem: string;
  };
  storageConnectionString: string;
  /** Table names start with it; a fresh prefix means empty tables. */
  tablePrefix: string;
  pageSize: number;
  assigningGraceMinutes: number;
  /** Peer only: also upsert one history row per problem (besides the problem row). */
  historyRows: boolean;
}

/** What the scanner itself counts during one scan. */
export interface ScanCounts {
  registrations: number;
  /** Problem registrations seen (new or not). */
  problems: number;
  /** Table entities written (upserted or deleted), as the scanner counts them. */
  entitiesWritten: number;
  /** DPS operations as the scanner counts them (ours: DpsClient.stats(); the peer: requests it sent). */
  dpsOperations: number;
  detail?: string;
}

export interface ScanReport extends ScanCounts {
  type: 'scanned';
  elapsedMs: number;
  cpuMicros: number;
  /** process.resourceUsage().maxRSS: the process's peak RSS so far, in bytes. */
  maxRssBytes: number;
  /** RSS when the scan ended. */
  rssBytes: number;
  /** V8 heap in use after a full garbage collection once the scan ended: what the process retains. */
  heapAfterGcBytes: number;
  /** What the process held when its sampled RSS was highest. */
  atPeak: MemorySample;
}

/** One sample of where a process's memory is (bytes). */
export interface MemorySample {
  rssBytes: number;
  /** V8's young generation (both semi-spaces) and old generation, committed. */
  newSpaceBytes: number;
  oldSpaceBytes: number;
  /** Code, large-object and the other V8 spaces, committed. */
  otherSpacesBytes: number;
  /** Memory V8 itself took from malloc (compiler zones), and the most it took so far. */
  v8MallocBytes: number;
  v8PeakMallocBytes: number;
  externalBytes: number;
}

export interface ScanFailure {
  type: 'scan-failed';
  message: string;
}

/** Often enough to catch the peak's composition; cheap next to a scan (a sample costs ~20 us). */
const PEAK_SAMPLE_INTERVAL_MS = 10;

const peakRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

function memorySample(): MemorySample {
  const spaces = getHeapSpaceStatistics();
  const size = (name: string) => spaces.find((space) => space.space_name === name)?.physical_space_size ?? 0;
  const total = spaces.reduce((sum, space) => sum + space.physical_space_size, 0);
  const heap = getHeapStatistics();
  const usage = process.memoryUsage();
  return {
    rssBytes: usage.rss,
    newSpaceBytes: size('new_space'),
    oldSpaceBytes: size('old_space'),
    otherSpacesBytes: total - size('new_space') - size('old_space'),
    v8MallocBytes: heap.malloced_memory,
    v8PeakMallocBytes: heap.peak_malloced_memory,
    externalBytes: usage.external,
  };
}

/** Samples memory every few milliseconds and keeps the sample with the highest RSS. */
function samplePeakMemory(): () => MemorySample {
  let peak = memorySample();
  const timer = setInterval(() => {
    const sample = memorySample();
    if (sample.rssBytes > peak.rssBytes) peak = sample;
  }, PEAK_SAMPLE_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

/** V8's gc(), as --expose-gc would give it (the flag cannot go in NODE_OPTIONS, and fork passes no flags here). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Runs `scan` under the V8 CPU profiler when BENCH_AUDIT_CPU_PROF names a folder, writing
 * `<folder>/<scanner>-<pid>-<n>.cpuprofile` (open it in Chrome DevTools or VS Code). The profiler slows the scan:
 * figures of a profiled run are not comparable.
 */
async function profiled<T>(run: () => Promise<T>, scanNumber: number): Promise<T> {
  const folder = process.env.BENCH_AUDIT_CPU_PROF;
  if (!folder) return run();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    try {
      return await run();
    } finally {
      const { profile } = await session.post('Profiler.stop');
      await mkdir(folder, { recursive: true });
      const name = `${process.argv[2] ?? 'scanner'}-${process.pid}-${scanNumber}.cpuprofile`;
      await writeFile(path.join(folder, name), JSON.stringify(profile));
    }
  } finally {
    session.disconnect();
  }
}

/** Child side: answers ScanRequests with `scan`, one at a time, until stopped. */
export function serveScans(scan: (request: ScanRequest) => Promise<ScanCounts>): void {
  let scans = 0;
  const gc = exposeGc();
  const stop = (): void => {
    if (process.connected) process.disconnect();
    process.exit(0);
  };
  process.on('message', (message: ScanRequest | string) => {
    if (message === 'stop') stop();
    if (typeof message !== 'object' || message.type !== 'scan') return;
    const cpuBefore = process.cpuUsage();
    const stopSampling = samplePeakMemory();
    const started = performance.now();
    profiled(() => scan(message), ++scans).then(
      (counts) => {
        const elapsedMs = performance.now() - started;
        const atPeak = stopSampling();
        const cpu = process.cpuUsage(cpuBefore);
        const maxRssBytes = peakRssBytes();
        const rssBytes = process.memoryUsage.rss();
        gc();
        const report: ScanReport = {
          type: 'scanned',
          ...counts,
          elapsedMs,
          cpuMicros: cpu.user + cpu.system,
          maxRssBytes,
          rssBytes,
          heapAfterGcBytes: process.memoryUsage().heapUsed,
          atPeak,
        };
        process.send?.(report);
      },
      (error: unknown) => {
        stopSampling();
        const failure: ScanFailure = {
          type: 'scan-failed',
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        };
        process.send?.(failure);
      },
    );
  });
  process.on('disconnect', () => process.exit(0));
  const ready: ScannerReady = { type: 'ready', rssBytes: process.memoryUsage.rss() };
  process.send?.(ready);
}

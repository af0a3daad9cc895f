// The hub-load timer's cost per run for 50 hubs (DPS's linked-hub limit) against the IoT Hub emulator (a child
// process) and Azurite (another): wall time and this process's CPU per run, the first run of a new worker (TLS
// connections, SAS tokens, the table created) and the runs after it on kept-alive connections. All hubs share the
// emulator's one endpoint; in Azure each hub is its own host, so a cold run there opens a connection per hub,
// which the run with 50 connections stands in for.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHubLoadTimer, type HubLoadTimer } from '../src/hub-load/timer';
import { figure, type Figure } from './figures';
import { median, percentile, sortedCopy } from './stats';
import type { AzuriteReady } from './support/azurite-child';
import type { BenchChild } from './support/child-process';
import type { IotHubsReady } from './support/iot-hubs-child';

interface Sample {
  wallMs: number;
  cpuMs: number;
}

const silent = { log: () => undefined, warn: (message: string) => console.warn(message) };

async function timedRun(timer: HubLoadTimer, hubs: number): Promise<Sample> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const run = await timer.run(silent);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (run?.read !== hubs) throw new Error(`a hub-load run read ${run?.read ?? 0} of ${hubs} hubs`);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

export async function measureTimer(
  hubs: BenchChild<IotHubsReady>,
  azurite: BenchChild<AzuriteReady>,
  quick: boolean,
): Promise<Figure[]> {
  const { hostNames, connectionStrings, hubEndpoint, caCertificatePem } = hubs.ready;
  const folder = await mkdtemp(path.join(os.tmpdir(), 'bench-hub-load-'));
  const caPath = path.join(folder, 'ca.pem');
  await writeFile(caPath, caCertificatePem);
  const env = (prefix: string): NodeJS.ProcessEnv => ({
    AUDIT_STORAGE_CONNECTION_STRING: azurite.ready.connectionString,
    AUDIT_TABLE_PREFIX: prefix,
    HUB_LOAD_HUBS: hostNames.join(','),
    HUB_LOAD_CONNECTION_STRINGS: connectionStrings.join('\n'),
    DPS_CA_CERTIFICATE_PATH: caPath,
  });
  const timers: HubLoadTimer[] = [];
  const timerWith = (prefix: string, connections?: number) => {
    const timer = createHubLoadTimer({
      env: env(prefix),
      client: {
        originFor: () => hubEndpoint,
        ...(connections === undefined ? {} : { http: { connections } }),
      },
    });
    timers.push(timer);
    return timer;
  };
  try {
    const steadyTimer = timerWith('BenchTimer');
    const cold = await timedRun(steadyTimer, hostNames.length);
    const runs = quick ? 10 : 30;
    const steady: Sample[] = [];
    for (let i = 0; i < runs; i++) steady.push(await timedRun(steadyTimer, hostNames.length));
    // A new worker whose first run opens one connection per hub, as 50 separate hubs would need.
    const wide = await timedRun(timerWith('BenchTimerWide', hostNames.length), hostNames.length);
    const wall = sortedCopy(steady.map((sample) => sample.wallMs));
    const setup = `${hostNames.length} hubs, SAS (registryRead), one transaction of ${hostNames.length} rows`;
    return [
      figure(`hub-load run, ${hostNames.length} hubs, steady: wall time (median)`, median([...wall]), 'ms', {
        note: `${runs} runs on kept-alive connections (4 per endpoint), p95 ${percentile(wall, 95).toFixed(1)} ms; ${setup}`,
      }),
      figure(
        `hub-load run, ${hostNames.length} hubs, steady: CPU per run (median)`,
        median(steady.map((sample) => sample.cpuMs)),
        'ms',
        { note: 'user + system CPU of this process (the emulator and Azurite run in child processes)' },
      ),
      figure(`hub-load run, ${hostNames.length} hubs, first of a worker: wall time`, cold.wallMs, 'ms', {
        note: `CPU ${cold.cpuMs.toFixed(1)} ms: TLS to the emulator, SAS tokens signed, the table created`,
      }),
      figure(
        `hub-load run, ${hostNames.length} hubs, first, a connection per hub: wall time`,
        wide.wallMs,
        'ms',
        {
          note: `CPU ${wide.cpuMs.toFixed(1)} ms: ${hostNames.length} TLS handshakes, as ${hostNames.length} separate hubs need after their connections idled out`,
        },
      ),
    ];
  } finally {
    await Promise.all(timers.map((timer) => timer.close()));
    await rm(folder, { recursive: true, force: true });
  }
}

// Emulator registrations per second through the allocate webhook (issue 3). Three processes on 127.0.0.1:
// this one generates the device load, a child runs the DPS emulator, another child runs the local Functions host
// serving the compiled allocate function with the default policy. The enrollment group uses custom allocation
// with that function as its webhook, so every registration is a device PUT, operation polling, and one webhook
// call. A lean device client (undici, one keep-alive pool) measures the emulator and the webhook; a smaller run
// through the official device SDK shows what a real device client adds.
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import type { ServerReady } from './allocation-http-server';
import { registerWithSdk } from '../dev/dps-emulator/sdk-clients';
import { DpsClient } from '../src/dps/client';
import { deriveDeviceKey } from '../src/dps/sas';
import { figure, type BenchModule, type BenchOptions, type Figure } from './figures';
import { percentile, sortedCopy } from './stats';
import { childUsage, stopBenchChild, type BenchChild, type ChildUsage } from './support/child-process';
import { describeErrors, failures, runClosedLoop, type ClosedLoopResult } from './support/closed-loop';
import { startAllocateHostChild, startEmulatorChild } from './support/dps-children';
import type { EmulatorReady, EmulatorUsage } from './support/emulator-child';
import { registerLean } from './support/lean-device-client';

const CONCURRENCY = 32;
const GROUP_ID = 'bench-custom-allocation';

interface RunSizes {
  warmup: number;
  lean: number;
  sdk: number;
}

function sizes(options: BenchOptions): RunSizes {
  return options.quick ? { warmup: 50, lean: 300, sdk: 60 } : { warmup: 200, lean: 2000, sdk: 300 };
}

interface MeasuredRun {
  loop: ClosedLoopResult;
  /** Device API requests (PUT + operation GETs) of the successful registrations; lean client only. */
  deviceRequests: number;
  emulator: EmulatorUsage;
  emulatorCpuMicros: number;
  hostCpuMicros: number;
  hostUsage: ChildUsage;
  clientCpuMicros: number;
}

interface Setup {
  emulator: BenchChild<EmulatorReady>;
  host: BenchChild<ServerReady>;
  groupKey: string;
  pool: Pool;
}

/** Creates the custom-allocation group through the service API, with this project's client. */
async function createWebhookGroup(emulator: EmulatorReady, webhookUrl: string): Promise<string> {
  const client = new DpsClient({
    connectionString: emulator.serviceConnectionString,
    caCertificate: emulator.caCertificatePem,
  });
  try {
    const primaryKey = randomBytes(32).toString('base64');
    await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: GROUP_ID,
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey, secondaryKey: randomBytes(32).toString('base64') },
      },
      provisioningStatus: 'enabled',
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl, apiVersion: '2021-10-01' },
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    });
    return primaryKey;
  } finally {
    await client.close();
  }
}

function assignedOrThrow(
  status: string,
  assignedHub: string | undefined,
  linkedHubs: string[],
  error = '',
): void {
  if (status !== 'assigned') throw new Error(`registration ${status}${error ? ` (${error})` : ''}`);
  if (!assignedHub || !linkedHubs.includes(assignedHub)) {
    throw new Error('registration assigned to a hub that is not linked');
  }
}

/** Runs `load` between two usage snapshots of both children and of this process. */
async function measured(
  setup: Setup,
  load: () => Promise<{ loop: ClosedLoopResult; deviceRequests: number }>,
): Promise<MeasuredRun> {
  const emulatorBefore = await childUsage<EmulatorUsage>(setup.emulator); // also resets its counters
  const hostBefore = await childUsage(setup.host);
  const clientBefore = process.cpuUsage();
  const { loop, deviceRequests } = await load();
  const client = process.cpuUsage(clientBefore);
  const emulator = await childUsage<EmulatorUsage>(setup.emulator);
  const hostUsage = await childUsage(setup.host);
  return {
    loop,
    deviceRequests,
    emulator,
    emulatorCpuMicros: emulator.cpuMicros - emulatorBefore.cpuMicros,
    hostCpuMicros: hostUsage.cpuMicros - hostBefore.cpuMicros,
    hostUsage,
    clientCpuMicros: client.user + client.system,
  };
}

async function leanLoad(
  setup: Setup,
  prefix: string,
  count: number,
): Promise<{ loop: ClosedLoopResult; deviceRequests: number }> {
  const { idScope, linkedHubs } = setup.emulator.ready;
  let deviceRequests = 0;
  const loop = await runClosedLoop(count, CONCURRENCY, async (i) => {
    const registrationId = `${prefix}-${String(i).padStart(6, '0')}`;
    const deviceKey = deriveDeviceKey(setup.groupKey, registrationId);
    const result = await registerLean(setup.pool, { idScope, registrationId, deviceKey });
    assignedOrThrow(result.status, result.assignedHub, linkedHubs, String(result.errorCode ?? ''));
    deviceRequests += result.requests;
  });
  return { loop, deviceRequests };
}

async function sdkLoad(
  setup: Setup,
  count: number,
): Promise<{ loop: ClosedLoopResult; deviceRequests: number }> {
  const { idScope, port, caCertificatePem, linkedHubs } = setup.emulator.ready;
  const loop = await runClosedLoop(count, CONCURRENCY, async (i) => {
    const registrationId = `sdk-device-${String(i).padStart(6, '0')}`;
    const deviceKey = deriveDeviceKey(setup.groupKey, registrationId);
    const result = await registerWithSdk({ idScope, port, caCertificatePem }, registrationId, deviceKey);
    assignedOrThrow(result.status ?? 'unknown', result.assignedHub, linkedHubs);
  });
  return { loop, deviceRequests: 0 };
}

async function withSetup<T>(run: (setup: Setup) => Promise<T>): Promise<T> {
  const functionKey = randomBytes(16).toString('hex');
  const host = await startAllocateHostChild(functionKey);
  try {
    // No assignment delay, retry-after 0, no quotas: devices poll again at once, so the figures show the emulator
    // and webhook, not waiting.
    const emulator = await startEmulatorChild([
      '--retry-after',
      '0',
      '--assignment-delay-ms',
      '0',
      '--no-quotas',
    ]);
    try {
      const webhook = new URL(host.ready.url);
      webhook.searchParams.set('code', functionKey);
      const groupKey = await createWebhookGroup(emulator.ready, webhook.toString());
      const pool = new Pool(emulator.ready.deviceEndpoint, {
        connections: CONCURRENCY,
        keepAliveTimeout: 60_000,
        connect: { ca: emulator.ready.caCertificatePem },
      });
      try {
        return await run({ emulator, host, groupKey, pool });
      } finally {
        await pool.close();
      }
    } finally {
      await stopBenchChild(emulator.process);
    }
  } finally {
    await stopBenchChild(host.process);
  }
}

function perRegistration(micros: number, run: MeasuredRun): number {
  return micros / run.loop.count;
}

function runFigures(label: string, run: MeasuredRun, setupNote: string): Figure[] {
  const { loop } = run;
  const latency = sortedCopy(loop.latencyMs.filter((ms) => !Number.isNaN(ms)));
  const failed = failures(loop);
  const assigned = run.emulator.stats.registrations.assigned ?? 0;
  return [
    figure(`registrations/s through the webhook, ${label}`, (1000 * latency.length) / loop.elapsedMs, '/s', {
      note: setupNote,
    }),
    figure(`registration latency p50, ${label}`, percentile(latency, 50), 'ms', {
      note: 'PUT register to the final operation answer, per device',
    }),
    figure(`registration latency p99, ${label}`, percentile(latency, 99), 'ms', {
      note: `max ${(latency[latency.length - 1] ?? Number.NaN).toFixed(1)} ms`,
    }),
    figure(`failed registrations, ${label}`, failed, 'registrations', {
      goal: { atMost: 0 },
      note:
        failed > 0
          ? describeErrors(loop)
          : `${latency.length.toLocaleString('en-US')} assigned to a linked hub (emulator counted ${assigned.toLocaleString('en-US')})`,
    }),
    figure(`webhook calls (emulator -> allocate), ${label}`, run.emulator.stats.webhook.calls, 'calls', {
      note: `${run.emulator.stats.webhook.retries} retries; one call per registration expected`,
    }),
  ];
}

function cpuFigures(run: MeasuredRun, pids: string): Figure[] {
  const emulator = perRegistration(run.emulatorCpuMicros, run);
  const host = perRegistration(run.hostCpuMicros, run);
  const client = perRegistration(run.clientCpuMicros, run);
  const total = emulator + host + client;
  return [
    figure(
      'device API requests per registration (PUT + operation GETs)',
      run.deviceRequests / run.loop.count,
      '',
      {
        note: 'retry-after 0: the device polls again as soon as an answer says assigning',
      },
    ),
    figure('CPU per registration: DPS emulator', emulator, 'us', {
      note: `event-loop delay p99 ${run.emulator.loopDelayP99Ms.toFixed(1)} ms, max ${run.emulator.loopDelayMaxMs.toFixed(1)} ms`,
    }),
    figure('CPU per registration: Functions host + allocate', host, 'us', {
      note: `event-loop delay p99 ${run.hostUsage.loopDelayP99Ms.toFixed(1)} ms, max ${run.hostUsage.loopDelayMaxMs.toFixed(1)} ms`,
    }),
    figure('CPU per registration: lean device load generator', client, 'us', {
      note:
        `all three: ${total.toFixed(0)} us, so 2 cores allow at most ~${Math.round(2e6 / total).toLocaleString('en-US')} ` +
        `registrations/s here; ${pids}`,
    }),
  ];
}

export async function measureRegistrations(options: BenchOptions): Promise<Figure[]> {
  const n = sizes(options);
  return withSetup(async (setup) => {
    await leanLoad(setup, 'warmup-device', n.warmup); // JIT, connections, the host's first invocations
    const lean = await measured(setup, () => leanLoad(setup, 'lean-device', n.lean));
    const sdk = await measured(setup, () => sdkLoad(setup, n.sdk));
    const pids =
      `load generator pid ${process.pid} (this process), DPS emulator pid ${setup.emulator.process.pid}, ` +
      `Functions host pid ${setup.host.process.pid}, all on 127.0.0.1`;
    const where =
      'custom-allocation group, webhook = the compiled allocate function (default policy) in the local Functions ' +
      'host; load generator, DPS emulator and Functions host each in its own process';
    const leanNote =
      `${n.lean.toLocaleString('en-US')} new devices, ${CONCURRENCY} in flight, after ${n.warmup} warm-up ` +
      `registrations; raw undici PUT + GET polling with device SAS tokens, one keep-alive pool; ${where}`;
    const sdkNote =
      `${n.sdk.toLocaleString('en-US')} new devices, ${CONCURRENCY} in flight, after the lean run; ` +
      'azure-iot-provisioning-device (HTTP transport, symmetric key), one client and TLS connection per device';
    return [
      ...runFigures('lean device client', lean, leanNote),
      ...cpuFigures(lean, pids),
      ...runFigures('official device SDK', sdk, sdkNote),
      figure(
        'CPU per registration: official device SDK client',
        perRegistration(sdk.clientCpuMicros, sdk),
        'us',
        {
          note: `DPS emulator ${perRegistration(sdk.emulatorCpuMicros, sdk).toFixed(0)} us, Functions host ${perRegistration(sdk.hostCpuMicros, sdk).toFixed(0)} us`,
        },
      ),
    ];
  });
}

export const registrationsBench: BenchModule = {
  name: 'registrations',
  description: 'DPS emulator registrations/s through the allocate webhook (local Functions host)',
  run: measureRegistrations,
};

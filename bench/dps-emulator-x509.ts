// X.509 over MQTT (issue 11): registrations per second through the allocate webhook on the emulator's MQTT
// endpoint with X.509 attestation, what the TLS client certificate costs per registration, and the rate the DPS-like
// timing (assignment delay, retry-after, quotas) leaves. Processes as in bench/dps-emulator-registrations.ts: this
// one generates the load, one child runs the DPS emulator, another the local Functions host serving the compiled
// allocate function with the default policy, the webhook of every group here.
//
// Two custom-allocation groups: X.509 (signing certificate: a test intermediate) and symmetric key. The device
// leaves are issued before anything is timed (~7 ms each), a pool of them: devices register again and again, one
// registration in flight per device (re-registration, sticky under the default policy). Over MQTT every
// registration is its own TLS connection, as a device's is: handshake (with the client certificate for X.509),
// CONNECT, SUBSCRIBE, register, polls. Two references without goals show where the gap to the keep-alive HTTPS
// figure comes from: the same lean HTTPS device on a TLS connection of its own per registration (as a device that
// connects, registers and goes away), with a SAS token and with the device certificate in the handshake (X.509 over
// HTTPS). The throughput runs use the emulator's FAST timing (no assignment delay, retry-after 0, no quotas) so
// that they show the emulator and the webhook, not waiting; the last run uses the emulator's defaults, DPS's timing
// and quotas, on a fresh emulator.
import { randomBytes, X509Certificate } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { Pool } from 'undici';
import type { ServerReady } from './allocation-http-server';
import { FAST_TIMING, type EmulatorTiming } from '../dev/dps-emulator';
import { prepareEnrollmentGroup } from '../dev/dps-emulator/enrollments';
import { createSdkX509DeviceClient, registerWithClient } from '../dev/dps-emulator/sdk-clients';
import { EmulatorStore } from '../dev/dps-emulator/store';
import { attestX509 } from '../dev/dps-emulator/x509-attestation';
import { createRootAuthority } from '../dev/test-ca/authority';
import { DpsClient } from '../src/dps/client';
import { deriveDeviceKey } from '../src/dps/sas';
import { figure, formatValue, type BenchModule, type BenchOptions, type Figure } from './figures';
import { percentile, sortedCopy } from './stats';
import { childUsage, stopBenchChild, type BenchChild, type ChildUsage } from './support/child-process';
import { describeErrors, failures, runClosedLoop, type ClosedLoopResult } from './support/closed-loop';
import { DevicePool } from './support/device-pool';
import { startAllocateHostChild, startEmulatorChild } from './support/dps-children';
import type { EmulatorReady, EmulatorUsage } from './support/emulator-child';
import { registerLean, registerLeanOnOwnConnection, type LeanDevice } from './support/lean-device-client';
import { deviceTlsContext, registerLeanMqtt, type LeanMqttCredentials } from './support/lean-mqtt-device';
import { runForWindow, type WindowedLoopResult } from './support/windowed-loop';

const CONCURRENCY = 32;
/** Devices in flight with DPS's timing: enough to offer more than the registration quota admits. */
const DPS_TIMING_CONCURRENCY = 400;
/** Devices (ids and X.509 leaves) per group; more than any run has in flight. */
const POOL_DEVICES = DPS_TIMING_CONCURRENCY + 64;
const X509_GROUP_ID = 'bench-x509-custom-allocation';
const SAS_GROUP_ID = 'bench-sas-custom-allocation';
/** The HTTPS symmetric-key lean figure the README gave (2026-11-23) and the issue quotes for this machine. */
const EARLIER_HTTPS_FIGURES = 'README 623/s (2026-11-23), issue 11: 723/s';

interface RunSizes {
  warmup: number;
  /** Registrations per lean run, measured in `rounds` parts taken in turn (every lean run, HTTPS and MQTT). */
  lean: number;
  /** The same for the references without goals (HTTPS on a connection of its own): fewer, to keep the module short. */
  reference: number;
  rounds: number;
  sdk: number;
  /** The window of the DPS-timing run: one whole quota window in full mode. */
  dpsWindowMs: number;
}

function sizes(options: BenchOptions): RunSizes {
  return options.quick
    ? { warmup: 50, lean: 300, reference: 150, rounds: 2, sdk: 60, dpsWindowMs: 20_000 }
    : { warmup: 200, lean: 2000, reference: 1000, rounds: 4, sdk: 300, dpsWindowMs: 60_000 };
}

interface X509Device {
  registrationId: string;
  /** The device certificate (the group's signing certificate is its issuer, so nothing more is sent). */
  cert: string;
  key: string;
}

interface Fleet {
  signingCertificatePem: string;
  x509: DevicePool<X509Device>;
  sas: DevicePool<string>;
}

/** Issues the intermediate and the device leaves (not timed). */
async function issueFleet(): Promise<{ fleet: Fleet; issueMs: number }> {
  const started = performance.now();
  const root = await createRootAuthority({ subject: 'CN=Bench Test Root, O=dps-allocator bench' });
  const intermediate = await root.issueIntermediate({
    subject: 'CN=Bench Test Intermediate, O=dps-allocator bench',
  });
  const ids = (prefix: string) =>
    Array.from({ length: POOL_DEVICES }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  const x509 = await Promise.all(
    ids('x509-mqtt-device').map(async (registrationId) => {
      const leaf = await intermediate.issueLeaf({ subject: `CN=${registrationId}, O=dps-allocator bench` });
      return { registrationId, cert: leaf.certPem, key: leaf.keyPem };
    }),
  );
  return {
    fleet: {
      signingCertificatePem: intermediate.certPem,
      x509: new DevicePool(x509),
      sas: new DevicePool(ids('sas-mqtt-device')),
    },
    issueMs: performance.now() - started,
  };
}

/** Both custom-allocation groups, through the service API with this project's client; the SAS group's key. */
async function createGroups(emulator: EmulatorReady, webhookUrl: string, fleet: Fleet): Promise<string> {
  const client = new DpsClient({
    connectionString: emulator.serviceConnectionString,
    caCertificate: emulator.caCertificatePem,
  });
  const common = {
    provisioningStatus: 'enabled',
    allocationPolicy: 'custom',
    customAllocationDefinition: { webhookUrl, apiVersion: '2021-10-01' },
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
  } as const;
  try {
    await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: X509_GROUP_ID,
      attestation: {
        type: 'x509',
        x509: { signingCertificates: { primary: { certificate: fleet.signingCertificatePem } } },
      },
      ...common,
    });
    const primaryKey = randomBytes(32).toString('base64');
    await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: SAS_GROUP_ID,
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey, secondaryKey: randomBytes(32).toString('base64') },
      },
      ...common,
    });
    return primaryKey;
  } finally {
    await client.close();
  }
}

interface Setup {
  emulator: BenchChild<EmulatorReady>;
  host: BenchChild<ServerReady>;
  fleet: Fleet;
  groupKey: string;
  /** undici keep-alive pool to the emulator's HTTPS device API (the reference run). */
  pool: Pool;
  /**
   * TLS contexts for this emulator's CA, built before any run: one shared by SAS devices, one per X.509 device (for
   * MQTT and for HTTPS on a connection of its own alike).
   */
  tls: { sas: SecureContext; x509: Map<string, SecureContext> };
}

function x509Credentials(setup: Setup, device: X509Device): LeanMqttCredentials {
  const context = setup.tls.x509.get(device.registrationId);
  if (!context) throw new Error(`no TLS context for ${device.registrationId}`);
  return { kind: 'x509', tls: context };
}

/** What a load reports besides the loop: requests (PUT/GET or PUBLISH) and 429s of the successful registrations. */
interface LoadCounts {
  requests: number;
  throttled: number;
}

interface MeasuredRun {
  loop: ClosedLoopResult;
  counts: LoadCounts;
  emulator: EmulatorUsage;
  emulatorCpuMicros: number;
  hostCpuMicros: number;
  hostUsage: ChildUsage;
  clientCpuMicros: number;
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
  load: () => Promise<{ loop: ClosedLoopResult; counts: LoadCounts }>,
): Promise<MeasuredRun> {
  const emulatorBefore = await childUsage<EmulatorUsage>(setup.emulator); // also resets its counters
  const hostBefore = await childUsage(setup.host);
  const clientBefore = process.cpuUsage();
  const { loop, counts } = await load();
  const client = process.cpuUsage(clientBefore);
  const emulator = await childUsage<EmulatorUsage>(setup.emulator);
  const hostUsage = await childUsage(setup.host);
  return {
    loop,
    counts,
    emulator,
    emulatorCpuMicros: emulator.cpuMicros - emulatorBefore.cpuMicros,
    hostCpuMicros: hostUsage.cpuMicros - hostBefore.cpuMicros,
    hostUsage,
    clientCpuMicros: client.user + client.system,
  };
}

function sumOf(values: Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const record of values) {
    for (const [key, value] of Object.entries(record)) sum[key] = (sum[key] ?? 0) + value;
  }
  return sum;
}

/** Parts of one run as one: counts, times and CPU summed, latencies and errors pooled. */
function combined(parts: readonly MeasuredRun[]): MeasuredRun {
  const last = parts[parts.length - 1];
  if (!last) throw new Error('no run to combine');
  const total = (of: (run: MeasuredRun) => number) => parts.reduce((sum, run) => sum + of(run), 0);
  const latencyMs = new Float64Array(total((run) => run.loop.count));
  let offset = 0;
  const errors = new Map<string, number>();
  for (const { loop } of parts) {
    latencyMs.set(loop.latencyMs, offset);
    offset += loop.count;
    for (const [message, k] of loop.errors) errors.set(message, (errors.get(message) ?? 0) + k);
  }
  const stats = parts.map((run) => run.emulator.stats);
  return {
    loop: {
      count: offset,
      concurrency: last.loop.concurrency,
      latencyMs,
      errors,
      elapsedMs: total((run) => run.loop.elapsedMs),
    },
    counts: {
      requests: total((run) => run.counts.requests),
      throttled: total((run) => run.counts.throttled),
    },
    emulator: {
      ...last.emulator,
      loopDelayP99Ms: Math.max(...parts.map((run) => run.emulator.loopDelayP99Ms)),
      loopDelayMaxMs: Math.max(...parts.map((run) => run.emulator.loopDelayMaxMs)),
      stats: {
        ...last.emulator.stats,
        registrations: sumOf(stats.map((s) => s.registrations)),
        webhook: {
          calls: stats.reduce((sum, s) => sum + s.webhook.calls, 0),
          retries: stats.reduce((sum, s) => sum + s.webhook.retries, 0),
        },
      },
    },
    emulatorCpuMicros: total((run) => run.emulatorCpuMicros),
    hostCpuMicros: total((run) => run.hostCpuMicros),
    hostUsage: last.hostUsage,
    clientCpuMicros: total((run) => run.clientCpuMicros),
  };
}

type Load = (setup: Setup, count: number) => Promise<{ loop: ClosedLoopResult; counts: LoadCounts }>;

/** The reference: symmetric key over HTTPS, the lean client of the registrations bench (one keep-alive pool). */
const httpsSymmetricKeyLoad: Load = async (setup, count) => {
  const { idScope, linkedHubs } = setup.emulator.ready;
  const counts: LoadCounts = { requests: 0, throttled: 0 };
  const loop = await runClosedLoop(count, CONCURRENCY, () =>
    setup.fleet.sas.with(async (registrationId) => {
      const deviceKey = deriveDeviceKey(setup.groupKey, registrationId);
      const result = await registerLean(setup.pool, { idScope, registrationId, deviceKey });
      assignedOrThrow(result.status, result.assignedHub, linkedHubs, String(result.errorCode ?? ''));
      counts.requests += result.requests;
    }),
  );
  return { loop, counts };
};

/**
 * A reference: the lean HTTPS device on a TLS connection of its own per registration (a full handshake, no session
 * resumption), with a SAS token, or X.509 with the device certificate in the handshake and no Authorization header.
 */
function httpsOwnConnectionLoad(kind: LeanMqttCredentials['kind']): Load {
  return async (setup, count) => {
    const { idScope, linkedHubs, deviceEndpoint } = setup.emulator.ready;
    const counts: LoadCounts = { requests: 0, throttled: 0 };
    const register = async (tls: SecureContext, device: LeanDevice) => {
      const result = await registerLeanOnOwnConnection(deviceEndpoint, tls, device);
      assignedOrThrow(result.status, result.assignedHub, linkedHubs, String(result.errorCode ?? ''));
      counts.requests += result.requests;
    };
    const loop = await runClosedLoop(count, CONCURRENCY, () =>
      kind === 'x509'
        ? setup.fleet.x509.with((device) =>
            register(x509Credentials(setup, device).tls, { idScope, registrationId: device.registrationId }),
          )
        : setup.fleet.sas.with((registrationId) =>
            register(setup.tls.sas, {
              idScope,
              registrationId,
              deviceKey: deriveDeviceKey(setup.groupKey, registrationId),
            }),
          ),
    );
    return { loop, counts };
  };
}

function mqttLoad(kind: LeanMqttCredentials['kind']): Load {
  return async (setup, count) => {
    const { idScope, linkedHubs } = setup.emulator.ready;
    const counts: LoadCounts = { requests: 0, throttled: 0 };
    const register = async (registrationId: string, credentials: LeanMqttCredentials) => {
      const result = await registerLeanMqtt(setup.emulator.ready, { idScope, registrationId, credentials });
      assignedOrThrow(result.status, result.assignedHub, linkedHubs, String(result.errorCode ?? ''));
      counts.requests += result.requests;
      counts.throttled += result.throttled;
    };
    const loop = await runClosedLoop(count, CONCURRENCY, () =>
      kind === 'x509'
        ? setup.fleet.x509.with((device) => register(device.registrationId, x509Credentials(setup, device)))
        : setup.fleet.sas.with((registrationId) =>
            register(registrationId, {
              kind: 'symmetricKey',
              deviceKey: deriveDeviceKey(setup.groupKey, registrationId),
              tls: setup.tls.sas,
            }),
          ),
    );
    return { loop, counts };
  };
}

/** The official device SDK: azure-iot-provisioning-device-mqtt with azure-iot-security-x509, a client per device. */
const sdkX509MqttLoad: Load = async (setup, count) => {
  const ready = setup.emulator.ready;
  const loop = await runClosedLoop(count, CONCURRENCY, () =>
    setup.fleet.x509.with(async (device) => {
      const client = createSdkX509DeviceClient(ready, 'mqtt', device.registrationId, {
        cert: device.cert,
        key: device.key,
      });
      const result = await registerWithClient(client);
      assignedOrThrow(result.status ?? 'unknown', result.assignedHub, ready.linkedHubs);
    }),
  );
  return { loop, counts: { requests: 0, throttled: 0 } };
};

function checkFastTiming(timing: EmulatorTiming): void {
  const fast =
    timing.assignmentDelayMs === FAST_TIMING.assignmentDelayMs &&
    timing.retryAfterSeconds === FAST_TIMING.retryAfterSeconds &&
    timing.quotas === FAST_TIMING.quotas;
  if (!fast) throw new Error(`the throughput emulator should run FAST_TIMING, not ${JSON.stringify(timing)}`);
}

/** The emulator flags of FAST_TIMING (dev/dps-emulator/timing.ts). */
function fastTimingFlags(): string[] {
  return [
    '--retry-after',
    String(FAST_TIMING.retryAfterSeconds),
    '--assignment-delay-ms',
    String(FAST_TIMING.assignmentDelayMs),
    '--no-quotas',
  ];
}

/** Starts an emulator child, creates the groups on it, and runs `run`; the child is stopped afterwards. */
async function withEmulator<T>(
  host: BenchChild<ServerReady>,
  functionKey: string,
  fleet: Fleet,
  flags: string[],
  run: (setup: Setup) => Promise<T>,
): Promise<T> {
  const emulator = await startEmulatorChild(flags);
  try {
    const webhook = new URL(host.ready.url);
    webhook.searchParams.set('code', functionKey);
    const groupKey = await createGroups(emulator.ready, webhook.toString(), fleet);
    const pool = new Pool(emulator.ready.deviceEndpoint, {
      connections: CONCURRENCY,
      keepAliveTimeout: 60_000,
      connect: { ca: emulator.ready.caCertificatePem },
    });
    const tls = {
      sas: deviceTlsContext(emulator.ready),
      x509: new Map(
        fleet.x509.devices.map((device) => [
          device.registrationId,
          deviceTlsContext(emulator.ready, { cert: device.cert, key: device.key }),
        ]),
      ),
    };
    try {
      return await run({ emulator, host, fleet, groupKey, pool, tls });
    } finally {
      await pool.close();
    }
  } finally {
    await stopBenchChild(emulator.process);
  }
}

function rate(run: MeasuredRun): number {
  const assigned = run.loop.latencyMs.filter((ms) => !Number.isNaN(ms)).length;
  return (1000 * assigned) / run.loop.elapsedMs;
}

function latencies(run: MeasuredRun): Float64Array {
  return sortedCopy(run.loop.latencyMs.filter((ms) => !Number.isNaN(ms)));
}

function perRegistration(micros: number, run: MeasuredRun): number {
  return micros / run.loop.count;
}

const count = (n: number) => n.toLocaleString('en-US');

function failureNote(label: string, run: MeasuredRun): string {
  const failed = failures(run.loop);
  return failed > 0
    ? `${label}: ${describeErrors(run.loop)}`
    : `${label}: ${count(run.loop.count)} assigned (emulator: ${count(run.emulator.stats.registrations.assigned ?? 0)}, ` +
        `${count(run.emulator.stats.webhook.calls)} webhook calls)`;
}

interface FastRuns {
  https: MeasuredRun;
  /** The references: HTTPS on a TLS connection of its own per registration. */
  httpsOwnSas: MeasuredRun;
  httpsOwnX509: MeasuredRun;
  sas: MeasuredRun;
  x509: MeasuredRun;
  sdk: MeasuredRun;
}

/** "DPS emulator N us, Functions host N us, lean device N us" per registration. */
function cpuNote(run: MeasuredRun): string {
  const us = (micros: number) => `${perRegistration(micros, run).toFixed(0)} us`;
  return (
    `CPU per registration: DPS emulator ${us(run.emulatorCpuMicros)}, Functions host ${us(run.hostCpuMicros)}, ` +
    `lean device ${us(run.clientCpuMicros)}`
  );
}

/** " (N failed: ...)" when some did, for the reference rows, which have no goal. */
function failedNote(run: MeasuredRun): string {
  const failed = failures(run.loop);
  return failed > 0 ? ` (${count(failed)} failed: ${describeErrors(run.loop)})` : '';
}

function throughputFigures(runs: FastRuns, n: RunSizes, pids: string): Figure[] {
  const { https, httpsOwnSas, httpsOwnX509, sas, x509, sdk } = runs;
  const requests = (run: MeasuredRun) => (run.counts.requests / run.loop.count).toFixed(2);
  const reusedIn = (run: MeasuredRun) =>
    `${count(run.loop.count)} registrations re-registering ${POOL_DEVICES} devices, in ${n.rounds} parts taken ` +
    'in turn with the other lean runs';
  const reused = reusedIn(x509);
  const where =
    'custom-allocation group, webhook = the compiled allocate function (default policy) in the local Functions ' +
    `host; emulator FAST timing; ${pids}`;
  const latency = latencies(x509);
  const failedLean = failures(https.loop) + failures(sas.loop) + failures(x509.loop);
  return [
    figure('registrations/s through the webhook, symmetric key over HTTPS, lean client', rate(https), '/s', {
      note:
        `the goal's reference, measured in this run: ${reused} (${CONCURRENCY} in flight), raw undici PUT + GET ` +
        `with device SAS tokens over one keep-alive pool (few TLS handshakes); ${cpuNote(https)}; earlier: ` +
        EARLIER_HTTPS_FIGURES,
    }),
    figure(
      'registrations/s through the webhook, symmetric key over HTTPS, lean client, own TLS connection per registration',
      rate(httpsOwnSas),
      '/s',
      {
        note:
          `reference, no goal: the keep-alive client above, but each registration on a TLS connection of its own ` +
          `(an undici Client per registration, a full handshake, no session resumption, closed after the final ` +
          `answer), as a device that connects, registers and goes away; what the keep-alive figure saves is the ` +
          `handshake per registration, which every MQTT registration below pays too. ${reusedIn(httpsOwnSas)}; ` +
          `${requests(httpsOwnSas)} requests per registration; ${cpuNote(httpsOwnSas)}${failedNote(httpsOwnSas)}`,
      },
    ),
    figure(
      'registrations/s through the webhook, X.509 over HTTPS, lean client, own TLS connection per registration',
      rate(httpsOwnX509),
      '/s',
      {
        note:
          `reference, no goal: as the row above with the device certificate in the handshake (the TLS context ` +
          `built once per device) and no Authorization header; the emulator attests the certificate on every ` +
          `request. Against the row above: the client certificate's cost over HTTPS; against X.509 over MQTT ` +
          `below: MQTT instead of HTTP on the same kind of connection. ${reusedIn(httpsOwnX509)}; ` +
          `${requests(httpsOwnX509)} requests per registration; ${cpuNote(httpsOwnX509)}${failedNote(httpsOwnX509)}`,
      },
    ),
    figure('registrations/s through the webhook, symmetric key over MQTT, lean client', rate(sas), '/s', {
      note: `${reused}, one TLS connection per registration (SAS token as the CONNECT password)`,
    }),
    figure(
      'registrations/s through the webhook, X.509 over MQTT, lean client (re-registering)',
      rate(x509),
      '/s',
      {
        goal: { atLeast: rate(https) },
        note:
          `goal: >= the HTTPS symmetric-key lean figure above. ${reused} (leaves issued before the run), ` +
          `${CONCURRENCY} in flight after ${n.warmup} warm-up registrations; one TLS connection per registration ` +
          `with the device certificate (a full handshake; the TLS context built once per device), CONNECT without ` +
          `password, SUBSCRIBE, register, polls; mqtt-packet over node:tls; ${where}`,
      },
    ),
    figure('registration latency p50, X.509 over MQTT, lean client', percentile(latency, 50), 'ms', {
      note: 'TLS connect to the final answer, per device',
    }),
    figure('registration latency p99, X.509 over MQTT, lean client', percentile(latency, 99), 'ms', {
      note: `max ${(latency[latency.length - 1] ?? Number.NaN).toFixed(1)} ms`,
    }),
    figure('failed registrations, lean runs (HTTPS SAS, MQTT SAS, MQTT X.509)', failedLean, 'registrations', {
      goal: { atMost: 0 },
      note: [
        failureNote('HTTPS SAS', https),
        failureNote('MQTT SAS', sas),
        failureNote('MQTT X.509', x509),
      ].join('; '),
    }),
    figure(
      'registrations/s through the webhook, X.509 over MQTT, official device SDK (re-registering)',
      rate(sdk),
      '/s',
      {
        note:
          `${count(n.sdk)} registrations of the same devices, ${CONCURRENCY} in flight, after the lean runs; ` +
          'azure-iot-provisioning-device-mqtt (Mqtt) + azure-iot-security-x509, one client and connection per ' +
          `registration; CPU per registration: SDK client ${perRegistration(sdk.clientCpuMicros, sdk).toFixed(0)} us, ` +
          `DPS emulator ${perRegistration(sdk.emulatorCpuMicros, sdk).toFixed(0)} us`,
      },
    ),
    figure(
      'failed registrations, official device SDK (X.509 over MQTT)',
      failures(sdk.loop),
      'registrations',
      {
        goal: { atMost: 0 },
        note: failureNote('SDK', sdk),
      },
    ),
  ];
}

function certificateCostFigures(runs: FastRuns): Figure[] {
  const { sas, x509 } = runs;
  const emulatorSas = perRegistration(sas.emulatorCpuMicros, sas);
  const emulatorX509 = perRegistration(x509.emulatorCpuMicros, x509);
  const clientSas = perRegistration(sas.clientCpuMicros, sas);
  const clientX509 = perRegistration(x509.clientCpuMicros, x509);
  const hostSas = perRegistration(sas.hostCpuMicros, sas);
  const hostX509 = perRegistration(x509.hostCpuMicros, x509);
  const wallMs = (run: MeasuredRun) => run.loop.elapsedMs / run.loop.count;
  const publishes = (run: MeasuredRun) => (run.counts.requests / run.loop.count).toFixed(2);
  const p50 = (run: MeasuredRun) => percentile(latencies(run), 50);
  return [
    figure('CPU per registration: DPS emulator, symmetric key over MQTT', emulatorSas, 'us', {
      note:
        `TLS handshake (server side), CONNECT with the SAS token checked, ${publishes(sas)} requests per ` +
        `registration (register + polls) that reuse the identity CONNECT proved while the enrollment is ` +
        `unchanged and the token unexpired; Functions host ${hostSas.toFixed(0)} us, lean device ` +
        `${clientSas.toFixed(0)} us`,
    }),
    figure('CPU per registration: DPS emulator, X.509 over MQTT', emulatorX509, 'us', {
      note:
        `TLS handshake with the client certificate (its CertificateVerify signature checked), the chain taken ` +
        `from the handshake, attestation at CONNECT; the ${publishes(x509)} requests per registration reuse that ` +
        `identity while the enrollment, its anchors and the certificates' validity are unchanged; Functions host ` +
        `${hostX509.toFixed(0)} us, lean device ${clientX509.toFixed(0)} us`,
    }),
    figure(
      'TLS client-certificate cost per registration, DPS emulator CPU (X.509 - symmetric key)',
      emulatorX509 - emulatorSas,
      'us',
      {
        note:
          'process.cpuUsage of the emulator child: the client certificate in the handshake (ECDSA P-256 signature ' +
          'check, certificate parsing) and the chain check at CONNECT (CN = registration id, the leaf signed by ' +
          "the group intermediate, validity, certificate info), minus the SAS token's HMAC checks at CONNECT",
      },
    ),
    figure(
      'TLS client-certificate cost per registration, device CPU (X.509 - symmetric key)',
      clientX509 - clientSas,
      'us',
      {
        note: `the lean device's side: its certificate sent and its handshake signature (ECDSA P-256) vs building a SAS token; Functions host difference ${(hostX509 - hostSas).toFixed(0)} us`,
      },
    ),
    figure(
      `TLS client-certificate cost per registration, wall time at ${CONCURRENCY} in flight (X.509 - symmetric key)`,
      wallMs(x509) - wallMs(sas),
      'ms',
      {
        note:
          `elapsed / registrations: ${wallMs(x509).toFixed(3)} ms vs ${wallMs(sas).toFixed(3)} ms (all three ` +
          `processes share the cores); latency p50 ${p50(x509).toFixed(1)} ms vs ${p50(sas).toFixed(1)} ms`,
      },
    ),
  ];
}

/**
 * The emulator's X.509 attestation alone, in this process (dev/dps-emulator/x509-attestation.ts), on a store holding
 * the bench's X.509 group: what the emulator does at CONNECT for an MQTT device and for every request of an HTTPS one.
 */
function attestationFigure(fleet: Fleet, iterations: number): Figure {
  const store = new EmulatorStore();
  store.putGroup(
    prepareEnrollmentGroup(
      {
        enrollmentGroupId: X509_GROUP_ID,
        attestation: {
          type: 'x509',
          x509: { signingCertificates: { primary: { certificate: fleet.signingCertificatePem } } },
        },
        allocationPolicy: 'hashed',
      },
      undefined,
      [{ hostName: 'bench-hub.azure-devices.net' }],
      () => undefined,
    ),
  );
  const deps = { store, verifiedCertificate: () => undefined, now: new Date() };
  const devices = fleet.x509.devices;
  const cpuMicrosPer = (run: (device: X509Device, parsed: X509Certificate) => void): number => {
    const parsed = devices.map((device) => new X509Certificate(device.cert));
    const before = process.cpuUsage();
    for (let i = 0; i < iterations; i++) run(devices[i % devices.length]!, parsed[i % devices.length]!);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / iterations;
  };
  cpuMicrosPer((device, parsed) => attestX509(device.registrationId, [parsed], deps)); // warm-up
  const parsedChain = cpuMicrosPer((device, parsed) => attestX509(device.registrationId, [parsed], deps));
  const withParsing = cpuMicrosPer((device) =>
    attestX509(device.registrationId, [new X509Certificate(device.cert)], deps),
  );
  return figure(
    'X.509 attestation per request, in process (attestX509 on a parsed chain)',
    parsedChain,
    'us',
    {
      note:
        `${formatValue(withParsing)} us with the certificate parsed first (the emulator takes a connection's chain ` +
        `from the handshake, once); over MQTT once per connection (at CONNECT), over HTTPS on every request; ` +
        `CN = registration id, the leaf's signature checked against the group's intermediate, validity, ` +
        `certificate info (thumbprints); ${count(iterations)} calls over ${devices.length} devices`,
    },
  );
}

/** At most `limit` admissions in any `windowMs`: in a run of `runMs`, at most limit x ceil(runMs / windowMs). */
function quotaBoundPerSecond(limit: number, windowMs: number, runMs: number): number {
  return (limit * Math.ceil(runMs / windowMs)) / (runMs / 1000);
}

interface DpsTimingRun {
  loop: WindowedLoopResult;
  emulator: EmulatorUsage;
  timing: EmulatorTiming;
  throttledSeen: number;
}

async function dpsTimingRun(setup: Setup, windowMs: number): Promise<DpsTimingRun> {
  const { idScope, linkedHubs, timing } = setup.emulator.ready;
  await childUsage(setup.emulator); // resets the counters; no registration before the window
  let throttledSeen = 0;
  const loop = await runForWindow(windowMs, DPS_TIMING_CONCURRENCY, (_index, signal) =>
    setup.fleet.x509.with(async (device) => {
      const result = await registerLeanMqtt(
        setup.emulator.ready,
        { idScope, registrationId: device.registrationId, credentials: x509Credentials(setup, device) },
        signal,
      );
      throttledSeen += result.throttled;
      assignedOrThrow(result.status, result.assignedHub, linkedHubs, String(result.errorCode ?? ''));
    }),
  );
  const emulator = await childUsage<EmulatorUsage>(setup.emulator);
  return { loop, emulator, timing, throttledSeen };
}

function dpsTimingFigures(run: DpsTimingRun): Figure[] {
  const { loop, emulator, timing } = run;
  const quota = timing.quotas === false ? false : timing.quotas.registrations;
  if (quota === false) throw new Error('the DPS-timing emulator runs without a registration quota');
  const windowS = loop.windowMs / 1000;
  const assigned = loop.latencyMs.length;
  const bound = quotaBoundPerSecond(quota.limit, quota.windowMs, loop.windowMs);
  const latency = sortedCopy(loop.latencyMs);
  const lastAssignedS = Math.max(0, ...loop.finishedAtMs) / 1000;
  const quotaText = `${count(quota.limit)} registrations per ${quota.windowMs / 1000} s`;
  const polls = timing.quotas === false ? false : timing.quotas.polls;
  const timingText =
    `assignment ${timing.assignmentDelayMs} ms, retry-after ${timing.retryAfterSeconds} s, quotas ${quotaText}` +
    (polls ? ` and ${polls.limit} polls per ${polls.windowMs / 1000} s per device` : '');
  const failed = [...loop.errors.values()].reduce((sum, k) => sum + k, 0);
  const errorText = [...loop.errors]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([message, k]) => `${k} x ${message}`)
    .join(', ');
  return [
    figure(
      `registrations/s with DPS timing, X.509 over MQTT, lean client (${DPS_TIMING_CONCURRENCY} in flight, ${windowS} s)`,
      assigned / windowS,
      '/s',
      {
        goal: { atMost: bound },
        note:
          `goal: bounded by the ${quotaText} quota: at most ${count(quota.limit * Math.ceil(loop.windowMs / quota.windowMs))} ` +
          `register requests admitted in a ${windowS}-s run (${formatValue(bound)}/s; ` +
          `${formatValue((1000 * quota.limit) / quota.windowMs)}/s over any whole minute). Emulator defaults (${timingText}), ` +
          `a fresh emulator; ${DPS_TIMING_CONCURRENCY} of ${POOL_DEVICES} devices in flight (a fleet coming online), ` +
          'each registering again once assigned, waiting retry-after on 202 and 429',
      },
    ),
    figure('registrations assigned in the window, DPS timing', assigned, 'registrations', {
      note:
        `the last at ${lastAssignedS.toFixed(1)} s; ${count(loop.started)} started, ${count(loop.cutOff)} still ` +
        `waiting or assigning when the window closed (not counted); emulator counted ` +
        `${count(emulator.stats.registrations.assigned ?? 0)} assigned, ${count(emulator.stats.webhook.calls)} webhook calls`,
    }),
    figure('429 answers, DPS timing', emulator.stats.throttled, 'answers', {
      note:
        `over the registration quota ${count(emulator.stats.quotas.registrations)}, over the poll quota ` +
        `${count(emulator.stats.quotas.polls)}; the devices saw ${count(run.throttledSeen)} in registrations that ` +
        `finished in the window and waited retry-after on each`,
    }),
    figure('registration latency p50, DPS timing', percentile(latency, 50), 'ms', {
      note: `p99 ${formatValue(percentile(latency, 99))} ms: register, retry-after, a poll still assigning, retry-after, assigned`,
    }),
    figure('failed registrations, DPS timing', failed, 'registrations', {
      goal: { atMost: 0 },
      note: failed > 0 ? errorText : 'none failed within the window',
    }),
  ];
}

export async function measureX509Mqtt(options: BenchOptions): Promise<Figure[]> {
  const n = sizes(options);
  const { fleet, issueMs } = await issueFleet();
  const functionKey = randomBytes(16).toString('hex');
  const host = await startAllocateHostChild(functionKey);
  try {
    const fast = await withEmulator(host, functionKey, fleet, fastTimingFlags(), async (setup) => {
      checkFastTiming(setup.emulator.ready.timing);
      // Each lean run with its size: the references without goals are shorter.
      const lean = {
        https: { load: httpsSymmetricKeyLoad, count: n.lean },
        httpsOwnSas: { load: httpsOwnConnectionLoad('symmetricKey'), count: n.reference },
        httpsOwnX509: { load: httpsOwnConnectionLoad('x509'), count: n.reference },
        sas: { load: mqttLoad('symmetricKey'), count: n.lean },
        x509: { load: mqttLoad('x509'), count: n.lean },
      } as const;
      const names = Object.keys(lean) as (keyof typeof lean)[];
      // Warm-up of every path: JIT, connections, the host's first invocations.
      for (const name of names) await lean[name].load(setup, n.warmup);
      // The lean runs in turn, a part of each per round, so that a change in the machine's other load falls on
      // all of them alike.
      const parts: Record<keyof typeof lean, MeasuredRun[]> = {
        https: [],
        httpsOwnSas: [],
        httpsOwnX509: [],
        sas: [],
        x509: [],
      };
      for (let round = 0; round < n.rounds; round++) {
        for (const name of names) {
          const { load, count: size } = lean[name];
          parts[name].push(await measured(setup, () => load(setup, Math.ceil(size / n.rounds))));
        }
      }
      const runs: FastRuns = {
        https: combined(parts.https),
        httpsOwnSas: combined(parts.httpsOwnSas),
        httpsOwnX509: combined(parts.httpsOwnX509),
        sas: combined(parts.sas),
        x509: combined(parts.x509),
        sdk: await measured(setup, () => sdkX509MqttLoad(setup, n.sdk)),
      };
      const pids =
        `load generator pid ${process.pid}, DPS emulator pid ${setup.emulator.process.pid}, ` +
        `Functions host pid ${setup.host.process.pid}, all on 127.0.0.1`;
      return [
        ...throughputFigures(runs, n, pids),
        ...certificateCostFigures(runs),
        attestationFigure(fleet, n.lean),
      ];
    });
    const dps = await withEmulator(host, functionKey, fleet, [], (setup) =>
      dpsTimingRun(setup, n.dpsWindowMs),
    );
    return [
      ...fast,
      ...dpsTimingFigures(dps),
      figure('device certificates issued before the runs (not timed)', POOL_DEVICES, 'leaves', {
        note: `ECDSA P-256 leaves under a test intermediate (dev/test-ca/authority.ts), ${(issueMs / POOL_DEVICES).toFixed(1)} ms each`,
      }),
    ];
  } finally {
    await stopBenchChild(host.process);
  }
}

export const x509MqttBench: BenchModule = {
  name: 'x509-mqtt',
  description:
    'registrations/s with X.509 over MQTT through the allocate webhook, client-certificate cost, DPS timing',
  run: measureX509Mqtt,
};

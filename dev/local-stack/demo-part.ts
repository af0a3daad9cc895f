// The demo: points the demo enrollment groups at the local webhook with the real `configure` command (in-process),
// registers the simulated fleet through the official device SDK (symmetric keys over HTTPS, X.509 over MQTT and
// MQTT over WebSocket), prints one line per device, then runs one audit scan right away so that
// `npm run audit -- list` has the rejected devices before the timer's first run.
// A second start finds the groups unchanged and the devices re-register (reprovisioning).
import { setTimeout as delay } from 'node:timers/promises';
import type { DpsEmulator } from '../dps-emulator';
import { registerWithSdk } from '../dps-emulator/sdk-clients';
import type { FunctionsHost, HostLogSink } from '../functions-host';
import { formatLogLine, stdoutLogSink } from '../functions-host/log';
import { main as configure } from '../../src/cli/configure/main';
import { mapLimit } from '../../src/concurrency/map-limit';
import { listProblems, recentScans, scanState } from '../../src/audit/read/queries';
import type { AuditStore } from '../../src/audit/store';
import { auditStoreFor } from '../../src/audit/store';
import { readSettings } from '../../src/settings';
import { loadOrCreateDemoCa } from './demo-ca';
import { DEMO_GROUPS, WRONG_FUNCTION_KEY, type DemoGroup } from './demo-fleet';
import {
  ensureIndividualEnrollments,
  ensureX509Group,
  issueDemoDeviceCertificates,
  registerX509Device,
} from './x509-demo';
import { X509_DEMO_DEVICES, X509_DEMO_GROUP_ID } from './x509-demo-fleet';
import { LocalStackAborted, type LocalStackPart } from './types';

/** Registrations in flight at once. */
const REGISTRATION_CONCURRENCY = 8;

export interface DeviceOutcome {
  registrationId: string;
  /** The enrollment group, or `(individual)`. */
  groupId: string;
  /** `https` (symmetric key), `mqtt` or `mqttWs` (X.509). */
  transport: string;
  /** `assigned`, `failed`, ... as DPS answered; `error` when the registration did not complete. */
  status: string;
  assignedHub?: string;
  errorCode?: number;
  errorMessage?: string;
}

export interface DemoResult {
  configure: { groupId: string; exitCode: number; output: string[] }[];
  devices: DeviceOutcome[];
  /** Open problems after the first audit scan; undefined when it could not run. */
  openProblems: number | undefined;
}

export interface DemoPart extends LocalStackPart {
  result: DemoResult;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LocalStackAborted();
}

async function configureGroup(
  group: Pick<DemoGroup, 'id' | 'iotHubs' | 'wrongKey'>,
  emulator: DpsEmulator,
  allocateUrl: string,
  functionKey: string,
): Promise<{ groupId: string; exitCode: number; output: string[] }> {
  const output: string[] = [];
  const collect = (text: string) => output.push(...text.split('\n').filter((line) => line !== ''));
  const argv = [
    '--connection-string',
    emulator.serviceConnectionString,
    '--ca-certificate',
    emulator.caCertificatePath,
    '--enrollment-group',
    group.id,
    '--webhook-url',
    allocateUrl,
    '--function-key',
    group.wrongKey ? WRONG_FUNCTION_KEY : functionKey,
  ];
  // An existing group (a second start) is only checked, so configure reports it unchanged.
  if (!emulator.store.getGroup(group.id)) {
    argv.push('--create', ...(group.iotHubs ? ['--linked-hubs', group.iotHubs.join(',')] : []));
  }
  const sink = { write: collect };
  const exitCode = await configure(argv, { stdout: sink, stderr: sink, env: {} });
  return { groupId: group.id, exitCode, output };
}

interface SdkFailure {
  message?: string;
  result?: { registrationState?: { status?: string; errorCode?: number; errorMessage?: string } };
}

async function registerDevice(
  emulator: DpsEmulator,
  groupId: string,
  registrationId: string,
): Promise<DeviceOutcome> {
  try {
    const result = await registerWithSdk(
      emulator,
      registrationId,
      emulator.deviceKey(registrationId, groupId),
    );
    return {
      registrationId,
      groupId,
      transport: 'https',
      status: result.status,
      assignedHub: result.assignedHub,
    };
  } catch (error) {
    const state = (error as SdkFailure).result?.registrationState;
    if (state?.status) {
      return {
        registrationId,
        groupId,
        transport: 'https',
        status: state.status,
        errorCode: state.errorCode,
        errorMessage: state.errorMessage,
      };
    }
    return {
      registrationId,
      groupId,
      transport: 'https',
      status: 'error',
      errorMessage: (error as SdkFailure).message,
    };
  }
}

/**
 * Waits while a run holds the scan lease: when the timer's run started first, the invoked one was skipped, and the
 * timer's may still be writing.
 */
async function scanFinished(
  store: AuditStore,
  signal: AbortSignal | undefined,
  timeoutMs = 60_000,
): Promise<void> {
  for (const started = Date.now(); Date.now() - started < timeoutMs;) {
    throwIfAborted(signal);
    if ((await scanState(store)).leaseOwner === undefined) return;
    await delay(200);
  }
}

/** Scan runs the demo invokes at most, waiting for one that started after the fleet registered. */
const DEMO_SCAN_ATTEMPTS = 5;

/**
 * Runs the audit until a run that started at `since` or later has completed. A timer run that began while devices
 * were still registering holds the lease, so the invoked run is skipped, and what it saw is already stale.
 */
async function scanAfter(
  since: number,
  store: AuditStore,
  invoke: () => Promise<unknown>,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (let attempt = 0; attempt < DEMO_SCAN_ATTEMPTS; attempt++) {
    await invoke();
    await scanFinished(store, signal);
    const runs = await recentScans(store, 10);
    if (runs.some((run) => run.outcome === 'completed' && run.startedAt.getTime() >= since)) return;
  }
  throw new Error(`no audit scan completed after the devices registered (${DEMO_SCAN_ATTEMPTS} runs tried)`);
}

function deviceLine(device: DeviceOutcome): string {
  const detail =
    device.status === 'assigned'
      ? `-> ${device.assignedHub}`
      : [device.errorCode, device.errorMessage].filter((part) => part !== undefined).join(' ');
  return `${device.registrationId.padEnd(34)} ${device.groupId.padEnd(33)} ${device.transport.padEnd(6)} ${device.status.padEnd(8)} ${detail}`;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${name}: ${count}`).join(', ');
}

export async function startDemoPart(options: {
  emulator: DpsEmulator;
  host: FunctionsHost;
  functionKey: string;
  /** The stack's data folder: the demo CA lives in `<dataDir>/demo-ca`. */
  dataDir: string;
  log?: HostLogSink;
  signal?: AbortSignal;
}): Promise<DemoPart> {
  const { emulator, host } = options;
  const write = options.log ?? stdoutLogSink;
  const log = (message: string, level = 'information') => write(formatLogLine('demo', level, message));
  const allocateUrl = host.functionUrl('allocate');

  const result: DemoResult = { configure: [], devices: [], openProblems: undefined };
  const ca = await loadOrCreateDemoCa(options.dataDir);
  const x509Group = ensureX509Group(emulator, ca);
  log(`X.509 group ${X509_DEMO_GROUP_ID} ${x509Group}; its signing certificate is the demo intermediate CA`);
  const x509Certificates = await issueDemoDeviceCertificates(ca);
  ensureIndividualEnrollments(emulator, x509Certificates, `${allocateUrl}?code=${options.functionKey}`);
  for (const group of [...DEMO_GROUPS, { id: X509_DEMO_GROUP_ID }]) {
    throwIfAborted(options.signal);
    const outcome = await configureGroup(group, emulator, allocateUrl, options.functionKey);
    for (const line of outcome.output) log(`configure: ${line}`);
    if (outcome.exitCode !== 0) {
      throw new Error(`configure failed for enrollment group '${group.id}' (exit code ${outcome.exitCode})`);
    }
    result.configure.push(outcome);
  }

  const fleet = DEMO_GROUPS.flatMap((group) => group.registrationIds.map((id) => ({ group, id })));
  log(`registering ${fleet.length} simulated devices through the official device SDK`);
  result.devices = await mapLimit(fleet, REGISTRATION_CONCURRENCY, async ({ group, id }) => {
    throwIfAborted(options.signal);
    const device = await registerDevice(emulator, group.id, id);
    log(deviceLine(device), device.status === 'assigned' ? 'information' : 'warning');
    return device;
  });
  log(`registering ${X509_DEMO_DEVICES.length} X.509 devices over MQTT and MQTT over WebSocket`);
  const x509Devices = await mapLimit(X509_DEMO_DEVICES, REGISTRATION_CONCURRENCY, async (x509Device) => {
    throwIfAborted(options.signal);
    const outcome = await registerX509Device(
      emulator,
      x509Device,
      x509Certificates.get(x509Device.registrationId)!,
    );
    const device: DeviceOutcome = {
      registrationId: x509Device.registrationId,
      groupId: x509Device.individual
        ? '(individual)'
        : x509Device.issuer === 'unknown-ca'
          ? '(no enrollment: unknown CA)'
          : X509_DEMO_GROUP_ID,
      transport: x509Device.transport,
      status: outcome.status,
      assignedHub: outcome.assignedHub,
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
    };
    log(deviceLine(device), device.status === 'assigned' ? 'information' : 'warning');
    return device;
  });
  result.devices.push(...x509Devices);
  // The attestation attempts of the refused devices, in DPS's resource logs, before the audit reads them.
  await emulator.flushResourceLogs();
  const registeredAt = Date.now();
  const failed = result.devices.filter((device) => device.status !== 'assigned');
  log(
    `${result.devices.length} devices: ${result.devices.length - failed.length} assigned, ${failed.length} not` +
      (failed.length > 0 ? ` (${countBy(failed, (d) => String(d.errorCode ?? d.status))})` : ''),
  );

  if (host.functions.some((fn) => fn.kind === 'timer' && fn.name === 'audit')) {
    throwIfAborted(options.signal);
    try {
      const store = auditStoreFor(readSettings());
      await scanAfter(registeredAt, store, () => host.invokeTimer('audit'), options.signal);
      // The hubs' device counts now, for `npm run audit -- hubs` and the dashboard (the timer runs every minute).
      if (host.functions.some((fn) => fn.kind === 'timer' && fn.name === 'hubLoad'))
        await host.invokeTimer('hubLoad');
      const problems = await listProblems(store, { resolved: false }, { pageSize: 1000 });
      result.openProblems = problems.items.length;
      log(
        `audit scan: ${problems.items.length} open problem(s)` +
          (problems.items.length > 0
            ? ` (${countBy(problems.items, (row) => String(row.errorCode ?? row.status))})`
            : '') +
          '; see them with `npm run audit -- list`',
      );
    } catch (error) {
      if (error instanceof LocalStackAborted) throw error;
      log(`the first audit scan failed: ${(error as Error).message}`, 'warning');
    }
  }

  const assigned = result.devices.length - failed.length;
  return {
    name: 'Demo',
    result,
    banner: [
      `Demo: ${result.devices.length} simulated devices (${assigned} assigned, ${failed.length} not) in enrollment groups:`,
      ...DEMO_GROUPS.map((group) => `  ${group.id}: ${group.purpose}`),
      `  ${X509_DEMO_GROUP_ID}: X.509 over MQTT, signed by the demo intermediate CA; the certificate's O picks ` +
        'the regional hub, a certificate expiring within 30 days is tagged for rotation',
      `  refused at attestation, both in the audit: an expired certificate (an individual enrollment's) and one ` +
        "from an unknown CA (DPS keeps no registration state for it: the audit reads DPS's DeviceOperations logs)",
      `  demo CA, device certificates and keys (test only): ${ca.dir}`,
    ],
    stop: async () => undefined,
  };
}

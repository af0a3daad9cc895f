// Capacity-aware allocation end to end: three hubs pre-filled to 5,000 / 1,000 / 0 devices (maxDevices 6,000 each),
// a draining hub and a full one; 3,000 new devices through the official device SDK, the DPS emulator and the real
// `allocate` function (local Functions host) with a leastLoaded policy; the hub-load timer reads the hubs' registry
// statistics into the HubLoad table while they register, and allocate reads its background copy of that table.
// Then the table goes away and the counts grow old: allocation goes on by hash and says why.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { registerWithSdk } from '../../dev/dps-emulator/sdk-clients';
import type { FunctionsHost } from '../../dev/functions-host';
import { startFunctionsHost } from '../../dev/functions-host';
import { mapLimit } from '../../src/concurrency/map-limit';
import {
  recordingLog,
  startHubLoadEnvironment,
  type HubLoadEnvironment,
} from '../hub-load/support/environment';

const FULL_HUB = 'contoso-capacity-full.azure-devices.net';
const BUSY_HUB = 'contoso-capacity-busy.azure-devices.net';
const LIGHT_HUB = 'contoso-capacity-light.azure-devices.net';
const EMPTY_HUB = 'contoso-capacity-empty.azure-devices.net';
const DRAINING_HUB = 'contoso-capacity-draining.azure-devices.net';
const HUBS = [FULL_HUB, BUSY_HUB, LIGHT_HUB, EMPTY_HUB, DRAINING_HUB];
const MAX_DEVICES = 6000;
const NEW_DEVICES = 3000;
const MAX_AGE_SECONDS = 4;
const FUNCTION_KEY = 'local-function-key-for-capacity-tests';
const GROUP_ID = 'contoso-capacity-fleet';

let env: HubLoadEnvironment;
let host: FunctionsHost;
let policyDir: string;
const allocations: { registrationId: string; hub?: string; reason: string }[] = [];
const savedEnv = new Map<string, string | undefined>();

function setEnv(values: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(values)) {
    if (!savedEnv.has(name)) savedEnv.set(name, process.env[name]);
    process.env[name] = value;
  }
}

function capacityPolicy(): string {
  const hub = (hostName: string, extra: Record<string, unknown> = {}) => ({
    hostName,
    maxDevices: MAX_DEVICES,
    ...extra,
  });
  const file = path.join(policyDir, 'capacity.policy.json');
  writeFileSync(
    file,
    JSON.stringify({
      hubs: {
        full: hub(FULL_HUB),
        busy: hub(BUSY_HUB),
        light: hub(LIGHT_HUB),
        empty: hub(EMPTY_HUB),
        draining: hub(DRAINING_HUB, { drain: true }),
      },
      defaults: { strategy: { type: 'leastLoaded' } },
      fallback: { action: 'allocate' },
    }),
  );
  return file;
}

/** The allocate function's log lines: one JSON record per decision. */
function onHostLine(line: string): void {
  const start = line.indexOf('{"event":"allocation"');
  if (start < 0) return;
  const record = JSON.parse(line.slice(start)) as { registrationId?: string; hub?: string; reason: string };
  allocations.push({ registrationId: record.registrationId ?? '', hub: record.hub, reason: record.reason });
}

const devices = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);

async function register(ids: readonly string[]): Promise<(string | undefined)[]> {
  return mapLimit(ids, 32, async (id) => {
    const result = await registerWithSdk(env.emulator, id, env.emulator.deviceKey(id, GROUP_ID));
    return result.assignedHub;
  });
}

const devicesIn = (hostName: string) => env.emulator.hubs.registry(hostName).statistics().totalDeviceCount;

beforeAll(async () => {
  env = await startHubLoadEnvironment(HUBS);
  policyDir = mkdtempSync(path.join(os.tmpdir(), 'capacity-'));
  env.emulator.hubs.registry(FULL_HUB).seedDevices(MAX_DEVICES, 'full-');
  env.emulator.hubs.registry(BUSY_HUB).seedDevices(5000, 'busy-');
  env.emulator.hubs.registry(LIGHT_HUB).seedDevices(1000, 'light-');
  const settings = env.settings(HUBS, {
    ALLOCATION_POLICY_PATH: capacityPolicy(),
    DECISION_LOG_ENABLED: 'false',
    HUB_LOAD_REFRESH_SECONDS: '1',
    HUB_LOAD_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS),
  });
  setEnv(settings);
  // The counts are in the table before allocate starts, as the timer (every minute in Azure) would have them.
  await env.timer(settings).run(recordingLog());
  host = await startFunctionsHost({
    functionFiles: [require.resolve('../../src/functions/allocate')],
    port: 0,
    functionKey: FUNCTION_KEY,
    enableTimers: false,
    log: onHostLine,
  });
  env.emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUP_ID,
    attestation: {
      type: 'symmetricKey',
      symmetricKey: {
        primaryKey: Buffer.alloc(32, 3).toString('base64'),
        secondaryKey: Buffer.alloc(32, 4).toString('base64'),
      },
    },
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: `${host.functionUrl('allocate')}?code=${FUNCTION_KEY}`,
      apiVersion: '2021-10-01',
    },
  });
  // allocate loads the table in the background from its start: wait for that first load.
  for (let waited = 0; waited < 10_000; waited += 100) {
    await delay(100);
    if (await probeReady()) break;
  }
}, 120_000);

/** Whether allocate's copy of the counts is loaded: one device registered, and its reason names the fill. */
async function probeReady(): Promise<boolean> {
  allocations.length = 0;
  await register(devices('probe', 1));
  const ready = allocations.some((allocation) => allocation.reason.includes('leastLoaded: lowest fill'));
  if (!ready) allocations.length = 0;
  return ready;
}

afterAll(async () => {
  await host?.stop();
  await env?.stop();
  if (policyDir) rmSync(policyDir, { recursive: true, force: true });
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('a fleet landing on hubs of different fill', () => {
  it('fills the two emptier hubs to within 3% of each other, and the full and draining hubs get none', async () => {
    const probes = allocations.length;
    const before = { light: devicesIn(LIGHT_HUB), empty: devicesIn(EMPTY_HUB) };
    // The timer goes on reading the hubs while the fleet registers; allocate refreshes its copy every second.
    let registering = true;
    const timer = env.timer(env.settings(HUBS, { AUDIT_TABLE_PREFIX: process.env.AUDIT_TABLE_PREFIX }));
    const timerRuns = (async () => {
      while (registering) {
        await timer.run(recordingLog());
        await delay(500);
      }
    })();
    let assigned: (string | undefined)[];
    try {
      assigned = await register(devices('capacity-device', NEW_DEVICES));
    } finally {
      registering = false;
      await timerRuns;
    }

    expect(assigned.filter((hub) => hub === undefined)).toEqual([]);
    expect(devicesIn(FULL_HUB)).toBe(MAX_DEVICES);
    expect(devicesIn(BUSY_HUB)).toBe(5000);
    expect(devicesIn(DRAINING_HUB)).toBe(0);
    const light = devicesIn(LIGHT_HUB);
    const empty = devicesIn(EMPTY_HUB);
    expect(light - before.light + (empty - before.empty)).toBe(NEW_DEVICES);
    expect(Math.abs(light - empty)).toBeLessThanOrEqual(0.03 * ((light + empty) / 2));

    const decided = allocations.slice(probes);
    expect(decided).toHaveLength(NEW_DEVICES);
    for (const allocation of decided) {
      expect(allocation.reason).toMatch(/; leastLoaded: lowest fill/);
      expect(allocation.reason).toContain(`${DRAINING_HUB} (draining)`);
    }
    expect(decided.some((allocation) => allocation.reason.includes(`${FULL_HUB} (full`))).toBe(true);
  }, 240_000);

  it('goes on by hash when the table is gone and the counts grow old, and says why', async () => {
    await env.azurite.stop();
    await delay((MAX_AGE_SECONDS + 1) * 1000);
    allocations.length = 0;
    const assigned = await register(devices('stale-device', 20));
    expect(assigned.every((hub) => hub !== undefined && hub !== DRAINING_HUB)).toBe(true);
    expect(allocations).toHaveLength(20);
    for (const allocation of allocations) {
      expect(allocation.reason).toMatch(
        /; leastLoaded: hub device counts are \d+ s old \(more than 4 s\): weighted rendezvous hash instead/,
      );
    }
  }, 60_000);
});

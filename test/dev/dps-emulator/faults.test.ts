// Fault plans: reproducible with a seed, scoped to an API or routes, and each fault kind as a client sees it.
import type { Agent } from 'undici';
import { FaultInjector } from '../../../dev/dps-emulator/faults';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { createSdkServiceClient, registerWithSdk } from '../../../dev/dps-emulator/sdk-clients';
import {
  emulatorDispatcher,
  ownerAuthorization,
  rawCall,
  startTestEmulator,
  testKey,
} from './support/emulator';

let emulator: DpsEmulator;
let dispatcher: Agent;
const PATH = '/enrollmentGroups/fault-group?api-version=2021-10-01';

beforeAll(async () => {
  emulator = await startTestEmulator();
  dispatcher = emulatorDispatcher(emulator);
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'fault-group',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('fault') } },
  });
});

afterEach(() => {
  emulator.setFaultPlan(undefined);
});

afterAll(async () => {
  await dispatcher.close();
  await emulator.stop();
});

const get = () =>
  rawCall(emulator, dispatcher, 'GET', PATH, { headers: { authorization: ownerAuthorization(emulator) } });

async function statusSequence(calls: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < calls; i++) statuses.push((await get()).status);
  return statuses;
}

describe('fault plans', () => {
  it('draw the same faults for the same seed and call order', async () => {
    const plan = { seed: 42, throttleRate: 0.3, serverErrorRate: 0.1, unavailableRate: 0.1 };
    emulator.setFaultPlan(plan);
    const first = await statusSequence(30);
    emulator.setFaultPlan(plan);
    const second = await statusSequence(30);
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 429, 500, 503]));
    emulator.setFaultPlan({ ...plan, seed: 7 });
    expect(await statusSequence(30)).not.toEqual(first);

    const a = new FaultInjector(plan);
    const b = new FaultInjector(plan);
    const draws = (injector: FaultInjector) =>
      Array.from({ length: 200 }, () => injector.decide('service', 'service.enrollmentGroups.get').fault);
    expect(draws(a)).toEqual(draws(b));
  });

  it('answer throttled calls with 429, Retry-After and the DPS error body, and count them', async () => {
    emulator.resetStats();
    emulator.setFaultPlan({ throttleRate: 1, retryAfterSeconds: 3 });
    const response = await get();
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('3');
    expect(response.headers['x-ms-error-code']).toBe('429001');
    expect(response.json).toMatchObject({ errorCode: 429001, trackingId: expect.any(String) });
    const sdkError = await createSdkServiceClient(emulator, emulator.sdkServiceConnectionString)
      .getEnrollmentGroup('fault-group')
      .catch((e: unknown) => e as { name: string });
    expect(sdkError).toMatchObject({ name: 'ThrottlingError' });
    expect(emulator.stats.throttled).toBe(2);
    expect(emulator.stats.faults.throttle).toBe(2);
    expect(emulator.stats.calls['service.enrollmentGroups.get']).toBe(2);
  });

  it('stop after maxFaults', async () => {
    emulator.setFaultPlan({ throttleRate: 1, maxFaults: 2 });
    expect(await statusSequence(4)).toEqual([429, 429, 200, 200]);
  });

  it('reset connections and truncate bodies', async () => {
    emulator.setFaultPlan({ resetRate: 1 });
    await expect(get()).rejects.toThrow();
    emulator.setFaultPlan({ truncateRate: 1 });
    await expect(get()).rejects.toThrow();
    emulator.setFaultPlan(undefined);
    expect((await get()).status).toBe(200);
  });

  it('delay calls', async () => {
    emulator.setFaultPlan({ delayRate: 1, delayMs: 60 });
    const started = Date.now();
    expect((await get()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('apply to the service API only unless told otherwise', async () => {
    emulator.setFaultPlan({ throttleRate: 1 });
    const key = emulator.deviceKey('fault-device', 'fault-group');
    expect((await registerWithSdk(emulator, 'fault-device', key)).status).toBe('assigned');

    emulator.setFaultPlan({ throttleRate: 1, appliesTo: 'device', routes: ['device.register'] });
    await expect(registerWithSdk(emulator, 'fault-device', key)).rejects.toMatchObject({
      name: 'ThrottlingError',
    });
    expect((await get()).status).toBe(200);
  });

  it('reject invalid plans', () => {
    expect(() => emulator.setFaultPlan({ throttleRate: 0.8, serverErrorRate: 0.5 })).toThrow(/at most 1/);
    expect(() => emulator.setFaultPlan({ throttleRate: 2 })).toThrow();
  });
});

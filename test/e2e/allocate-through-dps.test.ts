// End to end: the official device SDK registers devices with the DPS emulator, which calls the project's real
// `allocate` function served by the local Functions host, as DPS calls a deployed function app.
import type { FunctionsHost } from '../../dev/functions-host';
import { startFunctionsHost } from '../../dev/functions-host';
import type { DpsEmulator } from '../../dev/dps-emulator';
import { registerWithSdk } from '../../dev/dps-emulator/sdk-clients';
import { createSdkRegistry } from '../../dev/iot-hub-emulator/sdk-clients';
import { HEATPUMPS_HUB as HEATPUMPS, TOASTERS_HUB as TOASTERS } from '../../dev/fixtures/dps-requests';
import { EVERYTHING_ELSE_RULE, TOASTERS_RULE } from '../../dev/fixtures/policies';
import { startTestEmulator, testKey } from '../dev/dps-emulator/support/emulator';

const SPARE = 'contoso-spare-hub.azure-devices.net';
const FUNCTION_KEY = 'local-function-key-for-tests';

// The default policy's rules, plus a payload template and a rule that rejects.
const policy = {
  rules: [
    { name: 'quarantine', match: { registrationId: 'blocked-*' }, hubs: ['nowhere-hub.azure-devices.net'] },
    { ...TOASTERS_RULE, payload: { hub: '{{hub}}', firmwareSeen: '{{payload.firmware}}', rule: '{{rule}}' } },
    EVERYTHING_ELSE_RULE,
  ],
};

let host: FunctionsHost;
let emulator: DpsEmulator;
const hostLog: string[] = [];
const savedPolicy = process.env.ALLOCATION_POLICY;
const savedDecisionLog = process.env.DECISION_LOG_ENABLED;

beforeAll(async () => {
  process.env.ALLOCATION_POLICY = JSON.stringify(policy); // read when the host loads the allocate function
  process.env.DECISION_LOG_ENABLED = 'false'; // no storage here; test/decisions covers the decision table
  host = await startFunctionsHost({
    functionFiles: [require.resolve('../../src/functions/allocate')],
    port: 0,
    functionKey: FUNCTION_KEY,
    enableTimers: false,
    log: (line) => hostLog.push(line),
  });
  emulator = await startTestEmulator({
    linkedHubs: [{ hostName: TOASTERS }, { hostName: HEATPUMPS }, { hostName: SPARE }],
  });
});

afterAll(async () => {
  await emulator?.stop();
  await host?.stop();
  if (savedPolicy === undefined) delete process.env.ALLOCATION_POLICY;
  else process.env.ALLOCATION_POLICY = savedPolicy;
  if (savedDecisionLog === undefined) delete process.env.DECISION_LOG_ENABLED;
  else process.env.DECISION_LOG_ENABLED = savedDecisionLog;
});

function customGroup(id: string, webhookUrl: string): void {
  emulator.createEnrollmentGroup({
    enrollmentGroupId: id,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey(id) } },
    allocationPolicy: 'custom',
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    customAllocationDefinition: { webhookUrl, apiVersion: '2021-10-01' },
  });
}

function register(groupId: string, registrationId: string, payload?: Record<string, unknown>) {
  return registerWithSdk(emulator, registrationId, emulator.deviceKey(registrationId, groupId), payload);
}

function decisionsFor(registrationId: string): Record<string, unknown>[] {
  return hostLog
    .map((line) => line.slice(line.indexOf('{')))
    .filter((json) => json.startsWith('{"event":"allocation"'))
    .map((json) => JSON.parse(json) as Record<string, unknown>)
    .filter((decision) => decision.registrationId === registrationId);
}

describe('a custom-allocation group whose webhook is the allocate function', () => {
  beforeAll(() =>
    customGroup('contoso-custom-allocated-devices', `${host.functionUrl('allocate')}?code=${FUNCTION_KEY}`),
  );

  it('assigns a toaster to the toasters hub, records the initialTwin and returns the payload to the device', async () => {
    const state = await register('contoso-custom-allocated-devices', 'breakroom499-contoso-tstrsd-007', {
      firmware: '12.0.2.5',
    });
    expect(state).toMatchObject({
      status: 'assigned',
      assignedHub: TOASTERS,
      substatus: 'initialAssignment',
    });
    expect(state.payload).toEqual({ hub: TOASTERS, firmwareSeen: '12.0.2.5', rule: 'toasters' });
    expect(emulator.getRegistration('breakroom499-contoso-tstrsd-007')?.initialTwin).toEqual({
      tags: { deviceType: 'toaster' },
      properties: { desired: { state: 'ready', darknessSetting: 'medium' } },
    });
  });

  it('lands the devices in the hubs the policy chose, with its initial twin, as the IoT Hub SDK reads them', async () => {
    const toaster = 'breakroom498-contoso-tstrsd-006';
    const heatPump = 'mainbuilding167-contoso-hpsd-088';
    await register('contoso-custom-allocated-devices', toaster);
    const other = await register('contoso-custom-allocated-devices', heatPump);
    const registry = createSdkRegistry(emulator, TOASTERS);
    const twin = (await registry.getTwin(toaster)).responseBody;
    expect(twin.tags).toEqual({ deviceType: 'toaster' });
    expect(twin.properties.desired).toMatchObject({ state: 'ready', darknessSetting: 'medium' });
    expect((await registry.get(toaster)).responseBody).toMatchObject({
      deviceId: toaster,
      status: 'enabled',
    });
    await expect(registry.get(heatPump)).rejects.toThrow(/not found/i);
    // The everything-else rule gives no twin: the device is in its hub with an empty one.
    expect(other.assignedHub).not.toBe(TOASTERS);
    const itsHub = createSdkRegistry(emulator, other.assignedHub!);
    expect((await itsHub.getTwin(heatPump)).responseBody.tags ?? {}).toEqual({});
  });

  it('keeps a re-registering device on its hub (sticky), as DPS passes currentIotHubHostName', async () => {
    const first = await register('contoso-custom-allocated-devices', 'sensor-0042');
    const again = await register('contoso-custom-allocated-devices', 'sensor-0042');
    expect(again.assignedHub).toBe(first.assignedHub);
    const decisions = decisionsFor('sensor-0042');
    expect(decisions.map((d) => d.assignment)).toEqual(['initial', 'reprovision']);
    expect(decisions[1]).toMatchObject({
      rule: 'everything-else',
      reason: expect.stringContaining('sticky'),
    });
  });

  it('a device the policy rejects fails with 400207, and the function log says why', async () => {
    const failure = await register('contoso-custom-allocated-devices', 'blocked-unit-9').then(
      () => undefined,
      (error: { result?: { registrationState?: Record<string, unknown> } }) => error,
    );
    expect(failure?.result?.registrationState).toMatchObject({
      status: 'failed',
      errorCode: 400207,
      errorMessage: 'Custom allocation failed with status code: 400',
    });
    expect(decisionsFor('blocked-unit-9')[0]).toMatchObject({
      outcome: 'rejected',
      rule: 'quarantine',
      reason: expect.stringContaining('none of [nowhere-hub.azure-devices.net] is linked'),
    });
  });
});

describe('a group whose webhook URL carries a wrong function key', () => {
  beforeAll(() => customGroup('wrong-key-group', `${host.functionUrl('allocate')}?code=not-the-key`));

  it('fails registrations with 400209, and the function is never reached', async () => {
    const failure = await register('wrong-key-group', 'pump-001').then(
      () => undefined,
      (error: { result?: { registrationState?: Record<string, unknown> } }) => error,
    );
    expect(failure?.result?.registrationState).toMatchObject({ status: 'failed', errorCode: 400209 });
    expect(decisionsFor('pump-001')).toEqual([]);
  });
});

// The official device SDK (HTTP transport, symmetric keys) against the emulator: hashed, static and
// individual enrollments, disabled enrollments, bad keys, reprovisioning of built-in policies.
import { deriveDeviceKey } from '../../../src/dps/sas';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { registerWithSdk } from '../../../dev/dps-emulator/sdk-clients';
import { HUB_A, HUB_B, HUB_C, startTestEmulator, testKey } from './support/emulator';

let emulator: DpsEmulator;
const groupKey = testKey('group');

beforeAll(async () => {
  emulator = await startTestEmulator();
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'hashed-group',
    attestation: {
      type: 'symmetricKey',
      symmetricKey: { primaryKey: groupKey, secondaryKey: testKey('group-2') },
    },
    allocationPolicy: 'hashed',
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'static-group',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('static') } },
    allocationPolicy: 'static',
    iotHubs: [HUB_B],
  });
});

afterAll(async () => {
  await emulator.stop();
});

describe('device registration with the official SDK', () => {
  it('assigns devices of a hashed group to linked hubs, deterministically', async () => {
    const hubs = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const registrationId = `hashed-device-${i}`;
      const state = await registerWithSdk(
        emulator,
        registrationId,
        deriveDeviceKey(groupKey, registrationId),
      );
      expect(state.status).toBe('assigned');
      expect(state.deviceId).toBe(registrationId);
      expect(state.substatus).toBe('initialAssignment');
      expect([HUB_A, HUB_B, HUB_C]).toContain(state.assignedHub);
      hubs.add(state.assignedHub!);
      // Registering again lands on the same hub.
      const again = await registerWithSdk(
        emulator,
        registrationId,
        deriveDeviceKey(groupKey, registrationId),
      );
      expect(again.assignedHub).toBe(state.assignedHub);
    }
    expect(hubs.size).toBeGreaterThan(1);
    expect(emulator.getRegistrationState('hashed-device-0')).toMatchObject({ status: 'assigned' });
  });

  it('accepts the secondary group key', async () => {
    const state = await registerWithSdk(
      emulator,
      'secondary-user',
      deriveDeviceKey(testKey('group-2'), 'secondary-user'),
    );
    expect(state.status).toBe('assigned');
  });

  it('assigns devices of a static group to the hub it names', async () => {
    const key = emulator.deviceKey('static-device-1', 'static-group');
    const state = await registerWithSdk(emulator, 'static-device-1', key);
    expect(state.assignedHub).toBe(HUB_B);
  });

  it('registers an individual enrollment with its own key and device id', async () => {
    const created = emulator.createIndividualEnrollment({
      registrationId: 'Individual-Device',
      deviceId: 'individual-device-id',
      attestation: { type: 'symmetricKey' },
      allocationPolicy: 'static',
      iotHubHostName: HUB_C,
    });
    const key = (created.attestation as { symmetricKey: { primaryKey: string } }).symmetricKey.primaryKey;
    expect(Buffer.from(key, 'base64')).toHaveLength(64);
    const state = await registerWithSdk(emulator, 'Individual-Device', key);
    expect(state).toMatchObject({
      status: 'assigned',
      assignedHub: HUB_C,
      deviceId: 'individual-device-id',
      registrationId: 'Individual-Device',
    });
    // Registration ids are case-insensitive.
    expect(emulator.getRegistration('individual-device')?.status).toBe('assigned');
  });

  it('answers 401 for a device key that does not match', async () => {
    await expect(registerWithSdk(emulator, 'hashed-device-x', testKey('wrong'))).rejects.toMatchObject({
      name: 'UnauthorizedError',
    });
    await expect(
      registerWithSdk(emulator, 'unknown-device', deriveDeviceKey(testKey('other'), 'unknown-device')),
    ).rejects.toMatchObject({
      name: 'UnauthorizedError',
    });
    expect(emulator.getRegistration('hashed-device-x')).toBeUndefined();
  });

  it('answers disabled for a disabled enrollment, without assigning', async () => {
    emulator.createEnrollmentGroup({
      enrollmentGroupId: 'disabled-group',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('disabled') } },
      provisioningStatus: 'disabled',
    });
    const error = await registerWithSdk(
      emulator,
      'disabled-device',
      emulator.deviceKey('disabled-device', 'disabled-group'),
    ).catch((e: unknown) => e as { result?: { status?: string; registrationState?: { status?: string } } });
    expect(error).toMatchObject({
      result: { status: 'disabled', registrationState: { status: 'disabled' } },
    });
    expect(emulator.getRegistration('disabled-device')).toMatchObject({
      status: 'disabled',
      assignedHub: undefined,
    });
  });

  it('keeps the hub when updateHubAssignment is false, and migrates when it is true', async () => {
    emulator.createEnrollmentGroup({
      enrollmentGroupId: 'sticky-group',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('sticky') } },
      allocationPolicy: 'static',
      iotHubs: [HUB_A],
      reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
    });
    const key = emulator.deviceKey('sticky-device', 'sticky-group');
    expect((await registerWithSdk(emulator, 'sticky-device', key)).assignedHub).toBe(HUB_A);
    emulator.createEnrollmentGroup({
      enrollmentGroupId: 'sticky-group',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('sticky') } },
      allocationPolicy: 'static',
      iotHubs: [HUB_B],
      reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
    });
    expect((await registerWithSdk(emulator, 'sticky-device', key)).assignedHub).toBe(HUB_A);

    emulator.createEnrollmentGroup({
      enrollmentGroupId: 'sticky-group',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('sticky') } },
      allocationPolicy: 'static',
      iotHubs: [HUB_B],
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    });
    const moved = await registerWithSdk(emulator, 'sticky-device', key);
    expect(moved).toMatchObject({ assignedHub: HUB_B, substatus: 'deviceDataMigrated' });

    emulator.createEnrollmentGroup({
      enrollmentGroupId: 'sticky-group',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('sticky') } },
      allocationPolicy: 'static',
      iotHubs: [HUB_A],
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
    });
    const back = await registerWithSdk(emulator, 'sticky-device', key);
    expect(back).toMatchObject({ assignedHub: HUB_A, substatus: 'reprovisionedToInitialAssignment' });
  });

  it('counts device calls per route', () => {
    const calls = emulator.stats.calls;
    expect(calls['device.register']).toBeGreaterThan(0);
    expect(calls['device.operationStatus']).toBeGreaterThan(0);
  });
});

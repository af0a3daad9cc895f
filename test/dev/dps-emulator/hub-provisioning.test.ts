// What DPS does to the hubs, seen through the official SDKs: devices registered with the device SDK appear in
// their assigned hub, read back with the IoT Hub service SDK (identity, keys, initial twin); reprovisioning
// migrates the twin, resets it to the initial one, or leaves the device where it is; the old hub loses a device
// that moves (docs/dps-contract.md §9).
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { registerWithSdk } from '../../../dev/dps-emulator/sdk-clients';
import { createSdkRegistry } from '../../../dev/iot-hub-emulator/sdk-clients';
import { HUB_A, HUB_B, HUB_C, startTestEmulator, testKey } from './support/emulator';

let emulator: DpsEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterAll(async () => {
  await emulator.stop();
});

const registry = (hub: string) => createSdkRegistry(emulator, hub);

function group(id: string, extra: Record<string, unknown> = {}): void {
  emulator.createEnrollmentGroup({
    enrollmentGroupId: id,
    attestation: {
      type: 'symmetricKey',
      symmetricKey: { primaryKey: testKey(id), secondaryKey: testKey(`${id}-2`) },
    },
    ...extra,
  });
}

function register(groupId: string, registrationId: string) {
  return registerWithSdk(emulator, registrationId, emulator.deviceKey(registrationId, groupId));
}

/** The device's twin in `hub`, or the SDK's error name when the hub has no such device. */
async function twinIn(hub: string, deviceId: string) {
  return registry(hub)
    .getTwin(deviceId)
    .then(
      (response) => response.responseBody,
      (error: Error) => error.name,
    );
}

describe('initial assignment', () => {
  it('creates every device in the hub it was assigned to, with its keys and the enrollment initial twin', async () => {
    const initialTwin = { tags: { fleet: 'meters' }, properties: { desired: { interval: 60 } } };
    group('hashed-fleet', { allocationPolicy: 'hashed', initialTwin });
    const assigned = new Map<string, string[]>();
    for (let index = 1; index <= 12; index++) {
      const registrationId = `hashed-device-${index}`;
      const result = await register('hashed-fleet', registrationId);
      expect(result).toMatchObject({ deviceId: registrationId, substatus: 'initialAssignment' });
      assigned.set(result.assignedHub, [...(assigned.get(result.assignedHub) ?? []), registrationId]);
    }
    expect(assigned.size).toBeGreaterThan(1);
    for (const hub of [HUB_A, HUB_B, HUB_C]) {
      const mine = assigned.get(hub) ?? [];
      const statistics = (await registry(hub).getRegistryStatistics()).responseBody;
      expect(statistics).toEqual({
        totalDeviceCount: mine.length,
        enabledDeviceCount: mine.length,
        disabledDeviceCount: 0,
      });
      for (const deviceId of mine) {
        const device = (await registry(hub).get(deviceId)).responseBody;
        expect(device).toMatchObject({
          status: 'enabled',
          authentication: {
            type: 'sas',
            symmetricKey: {
              primaryKey: emulator.deviceKey(deviceId, 'hashed-fleet'),
              secondaryKey: expect.any(String),
            },
          },
        });
        const twin = (await registry(hub).getTwin(deviceId)).responseBody;
        expect(twin.tags).toEqual({ fleet: 'meters' });
        expect(twin.properties.desired).toMatchObject({ interval: 60 });
      }
      for (const other of [HUB_A, HUB_B, HUB_C].filter((candidate) => candidate !== hub)) {
        for (const deviceId of mine) expect(await twinIn(other, deviceId)).toBe('DeviceNotFoundError');
      }
    }
    // The hubs count what DPS assigned: the device count query agrees with the statistics.
    const counts = await Promise.all(
      [HUB_A, HUB_B, HUB_C].map(async (hub) => {
        const { result } = await registry(hub)
          .createQuery('SELECT COUNT() AS numberOfDevices FROM devices')
          .next();
        return (result as Array<{ numberOfDevices: number }>)[0]!.numberOfDevices;
      }),
    );
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(12);
  });

  it('creates an individual enrollment device under its deviceId, with the enrollment keys', async () => {
    const primaryKey = testKey('individual-static');
    emulator.createIndividualEnrollment({
      registrationId: 'individual-static',
      deviceId: 'Meter-0042',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey, secondaryKey: testKey('individual-2') },
      },
      allocationPolicy: 'static',
      iotHubs: [HUB_C],
      capabilities: { iotEdge: true },
      initialTwin: { properties: { desired: { mode: 'eco' } } },
    });
    const result = await registerWithSdk(emulator, 'individual-static', primaryKey);
    expect(result).toMatchObject({ assignedHub: HUB_C, deviceId: 'Meter-0042' });
    const device = (await registry(HUB_C).get('Meter-0042')).responseBody;
    expect(device).toMatchObject({
      authentication: { type: 'sas', symmetricKey: { primaryKey } },
      capabilities: { iotEdge: true },
    });
    const twin = (await registry(HUB_C).getTwin('Meter-0042')).responseBody;
    expect(twin.properties.desired).toMatchObject({ mode: 'eco' });
    expect(await twinIn(HUB_C, 'individual-static')).toBe('DeviceNotFoundError');
  });
});

describe('reprovisioning', () => {
  /** A static group on HUB_A, a device registered there whose twin the solution changed, then the group moved to HUB_B. */
  async function moveAfterChange(groupId: string, reprovisionPolicy: Record<string, boolean>) {
    const deviceId = `${groupId}-device`;
    const base = { allocationPolicy: 'static', reprovisionPolicy };
    group(groupId, { ...base, iotHubs: [HUB_A], initialTwin: { tags: { stage: 'initial' } } });
    expect((await register(groupId, deviceId)).assignedHub).toBe(HUB_A);
    await registry(HUB_A).updateTwin(
      deviceId,
      { tags: { stage: 'changed-on-a' }, properties: { desired: { fw: 2 } } },
      '*',
    );
    group(groupId, { ...base, iotHubs: [HUB_B], initialTwin: { tags: { stage: 'initial-v2' } } });
    return { deviceId, result: await register(groupId, deviceId) };
  }

  it('migrate data: the twin moves to the new hub and the old hub loses the device', async () => {
    const { deviceId, result } = await moveAfterChange('migrating', {
      updateHubAssignment: true,
      migrateDeviceData: true,
    });
    expect(result).toMatchObject({ assignedHub: HUB_B, substatus: 'deviceDataMigrated' });
    const twin = await twinIn(HUB_B, deviceId);
    expect(twin).toMatchObject({ tags: { stage: 'changed-on-a' }, properties: { desired: { fw: 2 } } });
    expect(await twinIn(HUB_A, deviceId)).toBe('DeviceNotFoundError');
  });

  it('reset to initial config: the new hub gets the initial twin and the old hub loses the device', async () => {
    const { deviceId, result } = await moveAfterChange('resetting', {
      updateHubAssignment: true,
      migrateDeviceData: false,
    });
    expect(result).toMatchObject({ assignedHub: HUB_B, substatus: 'deviceDataReset' });
    const twin = await twinIn(HUB_B, deviceId);
    expect(twin).toMatchObject({ tags: { stage: 'initial-v2' } });
    expect(
      (twin as { properties: { desired: Record<string, unknown> } }).properties.desired,
    ).not.toHaveProperty('fw');
    expect(await twinIn(HUB_A, deviceId)).toBe('DeviceNotFoundError');
  });

  it('never reprovision: the device and its twin stay where they are', async () => {
    const { deviceId, result } = await moveAfterChange('sticky', {
      updateHubAssignment: false,
      migrateDeviceData: true,
    });
    expect(result).toMatchObject({ assignedHub: HUB_A, substatus: 'initialAssignment' });
    expect(await twinIn(HUB_A, deviceId)).toMatchObject({ tags: { stage: 'changed-on-a' } });
    expect(await twinIn(HUB_B, deviceId)).toBe('DeviceNotFoundError');
  });

  it('re-registering to the same hub keeps the twin, whatever the policy', async () => {
    for (const migrateDeviceData of [true, false]) {
      const groupId = `same-hub-${migrateDeviceData}`;
      const deviceId = `${groupId}-device`;
      group(groupId, {
        allocationPolicy: 'static',
        iotHubs: [HUB_C],
        reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData },
        initialTwin: { tags: { stage: 'initial' } },
      });
      await register(groupId, deviceId);
      await registry(HUB_C).updateTwin(deviceId, { tags: { stage: 'changed' } }, '*');
      expect(await register(groupId, deviceId)).toMatchObject({ assignedHub: HUB_C });
      expect(await twinIn(HUB_C, deviceId)).toMatchObject({ tags: { stage: 'changed' } });
    }
  });

  it('moves a hashed device when its hub is unlinked; the unlinked hub keeps its registry', async () => {
    const local = await startTestEmulator({ linkedHubs: [{ hostName: HUB_A }] });
    try {
      local.createEnrollmentGroup({
        enrollmentGroupId: 'relinked',
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('relinked') } },
        initialTwin: { tags: { stage: 'initial' } },
      });
      const key = (id: string) => local.deviceKey(id, 'relinked');
      await registerWithSdk(local, 'relinked-1', key('relinked-1'));
      await registerWithSdk(local, 'relinked-2', key('relinked-2'));
      await createSdkRegistry(local, HUB_A).updateTwin('relinked-1', { tags: { stage: 'changed' } }, '*');

      local.setLinkedHubs([{ hostName: HUB_B }]);
      expect(await registerWithSdk(local, 'relinked-1', key('relinked-1'))).toMatchObject({
        assignedHub: HUB_B,
        substatus: 'deviceDataMigrated',
      });
      const onB = (await createSdkRegistry(local, HUB_B).getTwin('relinked-1')).responseBody;
      expect(onB.tags).toEqual({ stage: 'changed' });
      const stillOnA = createSdkRegistry(local, HUB_A);
      expect((await stillOnA.getRegistryStatistics()).responseBody.totalDeviceCount).toBe(1);
      expect((await stillOnA.get('relinked-2')).responseBody.deviceId).toBe('relinked-2');
    } finally {
      await local.stop();
    }
  });
});

describe('what DPS leaves alone', () => {
  it('a deleted registration state leaves the hub device; a disabled hub device stays disabled', async () => {
    group('left-alone', { allocationPolicy: 'static', iotHubs: [HUB_B] });
    await register('left-alone', 'left-alone-1');
    emulator.store.deleteRegistration('left-alone-1');
    expect((await registry(HUB_B).get('left-alone-1')).responseBody.status).toBe('enabled');

    const device = (await registry(HUB_B).get('left-alone-1')).responseBody;
    await registry(HUB_B).update({ ...device, status: 'disabled' });
    expect(await register('left-alone', 'left-alone-1')).toMatchObject({
      assignedHub: HUB_B,
      status: 'assigned',
    });
    expect((await registry(HUB_B).get('left-alone-1')).responseBody.status).toBe('disabled');
  });

  it('a device deleted from its hub is created again when it registers again', async () => {
    group('recreated', {
      allocationPolicy: 'static',
      iotHubs: [HUB_A],
      initialTwin: { tags: { stage: 'initial' } },
    });
    await register('recreated', 'recreated-1');
    await registry(HUB_A).delete('recreated-1');
    await register('recreated', 'recreated-1');
    expect(await twinIn(HUB_A, 'recreated-1')).toMatchObject({ tags: { stage: 'initial' } });
  });
});

describe('a hub that refuses the identity', () => {
  it("fails the registration with the hub's error body as its message", async () => {
    const primaryKey = testKey('refused-individual');
    emulator.createIndividualEnrollment({
      registrationId: 'refused-individual',
      deviceId: 'no spaces allowed',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey } },
      allocationPolicy: 'static',
      iotHubs: [HUB_A],
    });
    const error = (await registerWithSdk(emulator, 'refused-individual', primaryKey).then(
      () => undefined,
      (e: Error) => e,
    )) as Error | undefined;
    expect(error?.name).toMatch(/RegistrationFailedError$/);
    expect(emulator.getRegistration('refused-individual')).toMatchObject({
      status: 'failed',
      assignedHub: undefined,
      errorMessage: expect.stringMatching(
        /^\{"Message":"ErrorCode:ArgumentInvalid;Device id 'no spaces allowed' is invalid/,
      ),
    });
  });
});

// The IoT hub emulator's pure parts: twin merge patches, the query subset, etags and If-Match, and how an
// assignment is applied to the hubs in the corner cases the SDK tests do not reach.
import { applyAssignmentToHubs, type HubAssignment } from '../../../dev/dps-emulator/hub-assignment';
import { IotHubs } from '../../../dev/iot-hub-emulator';
import { deviceEtag, ifMatchAccepts, twinEtag } from '../../../dev/iot-hub-emulator/identifiers';
import { parseDeviceQuery } from '../../../dev/iot-hub-emulator/query';
import { mergeTwinPatch } from '../../../dev/iot-hub-emulator/twin-collections';

describe('twin merge patch', () => {
  it('merges objects, replaces values and removes keys set to null', () => {
    const merged = mergeTwinPatch(
      { a: 1, b: { c: 2, d: 3 }, e: 'x' },
      { a: null, b: { c: null, f: 4 }, e: { g: 1 } },
    );
    expect(merged).toEqual({ b: { d: 3, f: 4 }, e: { g: 1 } });
    expect(mergeTwinPatch({ a: { b: 1 } }, { a: { b: null } })).toBeUndefined();
    expect(mergeTwinPatch(undefined, { a: 1 })).toEqual({ a: 1 });
  });
});

describe('device query', () => {
  it('answers the count and SELECT *, and refuses the rest', () => {
    expect(parseDeviceQuery({ query: 'SELECT COUNT() AS numberOfDevices FROM devices' })).toEqual({
      kind: 'count',
      alias: 'numberOfDevices',
    });
    expect(parseDeviceQuery({ query: ' select count( ) as n from DEVICES ' })).toEqual({
      kind: 'count',
      alias: 'n',
    });
    expect(parseDeviceQuery({ query: 'SELECT * FROM devices' })).toEqual({ kind: 'twins' });
    for (const query of [
      'SELECT * FROM devices WHERE tags.a = 1',
      'SELECT COUNT() FROM devices',
      'SELECT * FROM devices.modules',
    ]) {
      expect(() => parseDeviceQuery({ query })).toThrow(/answers only/);
    }
    expect(() => parseDeviceQuery('SELECT * FROM devices')).toThrow(/query specification/);
  });
});

describe('etags', () => {
  it("look like IoT Hub's and match If-Match quoted, weak or *", () => {
    expect(twinEtag(1)).toBe('AAAAAAAAAAE=');
    expect(deviceEtag(318796046)).toBe('MzE4Nzk2MDQ2');
    expect(ifMatchAccepts('"*"', 'abc')).toBe(true);
    expect(ifMatchAccepts('W/"abc"', 'abc')).toBe(true);
    expect(ifMatchAccepts('"abd"', 'abc')).toBe(false);
  });
});

describe('applying an assignment to the hubs', () => {
  const sas = {
    authenticationType: 'sas',
    primaryKey: undefined,
    secondaryKey: undefined,
    primaryThumbprint: undefined,
    secondaryThumbprint: undefined,
  } as const;
  const assignment = (extra: Partial<HubAssignment>): HubAssignment => ({
    previous: { hub: undefined, deviceId: undefined },
    hub: 'hub-1.azure-devices.net',
    deviceId: 'device-1',
    settings: { updateHubAssignment: true, migrateDeviceData: true },
    writesInitialTwin: true,
    initialTwin: { tags: { stage: 'initial' } },
    authentication: sas,
    iotEdge: false,
    ...extra,
  });

  it('moves the identity when only the device id changes, with its twin', () => {
    const hubs = new IotHubs();
    applyAssignmentToHubs(hubs, assignment({}));
    hubs.registry('hub-1.azure-devices.net').updateTwin('device-1', { tags: { stage: 'changed' } });
    applyAssignmentToHubs(
      hubs,
      assignment({
        previous: { hub: 'HUB-1.azure-devices.net', deviceId: 'device-1' },
        deviceId: 'device-1b',
        writesInitialTwin: false,
      }),
    );
    const registry = hubs.registry('hub-1.azure-devices.net');
    expect(registry.getDevice('device-1')).toBeUndefined();
    expect(registry.getTwin('device-1b')?.tags).toEqual({ stage: 'changed' });
  });

  it('migrates nothing when the old hub lost the device, and creates the hub it assigns to', () => {
    const hubs = new IotHubs();
    applyAssignmentToHubs(
      hubs,
      assignment({
        previous: { hub: 'gone.azure-devices.net', deviceId: 'device-1' },
        hub: 'new.azure-devices.net',
      }),
    );
    expect(hubs.hostNames()).toEqual(['new.azure-devices.net']);
    expect(hubs.registry('new.azure-devices.net').getTwin('device-1')?.tags).toBeUndefined();
  });

  it('on an initial assignment to a hub that has the device already, writes the initial twin over it', () => {
    const hubs = new IotHubs();
    hubs.ensure(['hub-1.azure-devices.net']);
    const registry = hubs.registry('hub-1.azure-devices.net');
    registry.putDevice({ deviceId: 'device-1', status: 'disabled' });
    registry.updateTwin('device-1', { tags: { stage: 'old' }, properties: { desired: { x: 1 } } });
    applyAssignmentToHubs(hubs, assignment({}));
    expect(registry.getDevice('device-1')?.status).toBe('disabled');
    const twin = registry.getTwin('device-1')!;
    expect(twin.tags).toEqual({ stage: 'initial' });
    expect(twin.properties.desired).not.toHaveProperty('x');
  });

  it('refuses a device id the hub cannot hold with an IoT Hub error', () => {
    expect(() => applyAssignmentToHubs(new IotHubs(), assignment({ deviceId: 'no spaces' }))).toThrow(
      /is invalid/,
    );
  });
});

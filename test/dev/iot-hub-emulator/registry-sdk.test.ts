// The emulated hubs' registries driven by the official IoT Hub service SDK (azure-iothub's Registry, unchanged):
// device identities, twins, registry statistics and the device queries, with IoT Hub's etags and errors.
import type { Registry } from 'azure-iothub';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { HUB_A, HUB_B, registryFor, rejection, startTestEmulator } from './support';

let emulator: DpsEmulator;
let registry: Registry;

beforeAll(async () => {
  emulator = await startTestEmulator();
  registry = registryFor(emulator, HUB_A);
});

afterAll(async () => {
  await emulator.stop();
});

describe('device identities', () => {
  it('creates, reads, updates and deletes a device as IoT Hub does', async () => {
    const created = (await registry.create({ deviceId: 'sdk-device-1' })).responseBody;
    expect(created).toMatchObject({
      deviceId: 'sdk-device-1',
      status: 'enabled',
      connectionState: 'Disconnected',
      authentication: { type: 'sas' },
      capabilities: { iotEdge: false },
    });
    expect(created.generationId).toMatch(/^\d{18}$/);
    expect(created.etag).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(created.authentication!.symmetricKey!.primaryKey, 'base64')).toHaveLength(32);

    const read = (await registry.get('sdk-device-1')).responseBody;
    expect(read).toMatchObject({ etag: created.etag, generationId: created.generationId });

    const updated = (await registry.update({ ...read, status: 'disabled', statusReason: 'maintenance' }))
      .responseBody;
    expect(updated).toMatchObject({ status: 'disabled', statusReason: 'maintenance' });
    expect(updated.etag).not.toBe(created.etag);
    expect(updated.generationId).toBe(created.generationId);
    expect(updated.authentication!.symmetricKey).toEqual(created.authentication!.symmetricKey);

    await registry.delete('sdk-device-1');
    expect((await rejection(registry.get('sdk-device-1'))).name).toBe('DeviceNotFoundError');
    expect((await rejection(registry.delete('sdk-device-1'))).name).toBe('DeviceNotFoundError');
    const again = (await registry.create({ deviceId: 'sdk-device-1' })).responseBody;
    expect(again.generationId).not.toBe(created.generationId);
  });

  it('refuses a device that exists (409), an update of none (404) and a bad body (400)', async () => {
    await registry.create({ deviceId: 'sdk-device-2' });
    const conflict = await rejection(registry.create({ deviceId: 'sdk-device-2' }));
    expect(conflict.name).toBe('DeviceAlreadyExistsError');
    expect(conflict.message).toBe("A device with ID 'sdk-device-2' is already registered.");
    expect((await rejection(registry.update({ deviceId: 'nobody-here' }))).name).toBe('DeviceNotFoundError');
    const invalid = await rejection(registry.create({ deviceId: 'bad/id' }));
    expect(invalid.name).toBe('ArgumentError');
    const badKey = await rejection(
      registry.create({
        deviceId: 'bad-key',
        authentication: { symmetricKey: { primaryKey: 'c2hvcnQ=', secondaryKey: '' } },
      }),
    );
    expect(badKey.name).toBe('ArgumentError');
    expect(badKey.message).toMatch(/primaryKey must be base64 of 16 to 64 bytes/);
  });

  it('keeps the keys and thumbprints a client gives', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const sas = (
      await registry.create({
        deviceId: 'keyed-device',
        authentication: { symmetricKey: { primaryKey: key, secondaryKey: key } },
      })
    ).responseBody;
    expect(sas.authentication).toMatchObject({
      type: 'sas',
      symmetricKey: { primaryKey: key, secondaryKey: key },
    });
    const thumbprint = 'ab'.repeat(20);
    const x509 = (
      await registry.create({
        deviceId: 'x509-device',
        authentication: { x509Thumbprint: { primaryThumbprint: thumbprint } },
      })
    ).responseBody;
    expect(x509.authentication).toMatchObject({
      type: 'selfSigned',
      x509Thumbprint: { primaryThumbprint: thumbprint.toUpperCase(), secondaryThumbprint: null },
      symmetricKey: { primaryKey: null, secondaryKey: null },
    });
  });

  it('lists the devices of one hub only', async () => {
    const other = registryFor(emulator, HUB_B);
    await other.create({ deviceId: 'only-in-b' });
    const inB = (await other.list()).responseBody.map((device) => device.deviceId);
    expect(inB).toEqual(['only-in-b']);
    const inA = (await registry.list()).responseBody.map((device) => device.deviceId);
    expect(inA).not.toContain('only-in-b');
    expect(inA).toEqual([...inA].sort());
  });
});

describe('twins', () => {
  it('reads and patches tags and desired properties, with etags and versions', async () => {
    await registry.create({ deviceId: 'twin-device' });
    const twin = (await registry.getTwin('twin-device')).responseBody;
    expect(twin).toMatchObject({
      deviceId: 'twin-device',
      tags: {},
      properties: { desired: { $version: 1 } },
    });
    const firstEtag = twin.etag;

    await twin.update({ tags: { site: 'lyon', line: { id: 4 } }, properties: { desired: { interval: 30 } } });
    expect(twin.etag).not.toBe(firstEtag);
    expect(twin.tags).toEqual({ site: 'lyon', line: { id: 4 } });
    expect(twin.properties.desired).toMatchObject({ interval: 30, $version: 2 });

    // A null removes a key; objects merge.
    const patched = (
      await registry.updateTwin('twin-device', { tags: { line: { id: null, shift: 'night' } } }, twin.etag)
    ).responseBody;
    expect(patched.tags).toEqual({ site: 'lyon', line: { shift: 'night' } });
    expect(patched.properties.desired).toMatchObject({ interval: 30, $version: 2 });

    const stale = await rejection(registry.updateTwin('twin-device', { tags: { late: true } }, firstEtag));
    expect(stale.name).toBe('InvalidEtagError');
    expect((await rejection(registry.getTwin('no-twin-device'))).name).toBe('DeviceNotFoundError');
    const bad = await rejection(registry.updateTwin('twin-device', { tags: { 'a.b': 1 } }, '*'));
    expect(bad.name).toBe('ArgumentError');
  });
});

describe('statistics and queries', () => {
  it('counts devices, enabled and disabled, and answers the count query', async () => {
    emulator.setLinkedHubs([...emulator.linkedHubs, { hostName: 'emulated-stats-hub.azure-devices.net' }]);
    const hub = registryFor(emulator, 'emulated-stats-hub.azure-devices.net');
    await hub.create({ deviceId: 'stats-1' });
    await hub.create({ deviceId: 'stats-2', status: 'disabled' });
    await hub.create({ deviceId: 'stats-3' });
    expect((await hub.getRegistryStatistics()).responseBody).toEqual({
      totalDeviceCount: 3,
      enabledDeviceCount: 2,
      disabledDeviceCount: 1,
    });
    const count = await hub.createQuery('SELECT COUNT() AS numberOfDevices FROM devices').next();
    expect(count.result).toEqual([{ numberOfDevices: 3 }]);
  });

  it('pages SELECT * FROM devices with x-ms-continuation', async () => {
    const hub = registryFor(emulator, HUB_B);
    emulator.hubs.registry(HUB_B).seedDevices(5, 'paged-');
    const query = hub.createQuery('SELECT * FROM devices', 2);
    const seen: string[] = [];
    let pages = 0;
    do {
      // The SDK's promise form needs the token passed back (as the DPS service SDK, docs/dps-contract.md §7.1).
      const page = await query.nextAsTwin(query.continuationToken ?? undefined);
      seen.push(...page.result.map((twin) => twin.deviceId));
      pages += 1;
    } while (query.hasMoreResults);
    expect(seen).toEqual([
      'only-in-b',
      'paged-00001',
      'paged-00002',
      'paged-00003',
      'paged-00004',
      'paged-00005',
    ]);
    expect(pages).toBe(3);
  });

  it('refuses a query it does not answer with a 400', async () => {
    const error = await rejection(
      registry.createQuery("SELECT * FROM devices WHERE status = 'enabled'").next(),
    );
    expect(error.name).toBe('ArgumentError');
    expect(error.message).toMatch(/answers only/);
  });
});

describe('pre-filled hubs', () => {
  it('seeds 5,000 enabled devices whose statistics and count are read at once', async () => {
    const hubName = 'emulated-full-hub.azure-devices.net';
    emulator.setLinkedHubs([...emulator.linkedHubs, { hostName: hubName }]);
    expect(emulator.hubs.registry(hubName).seedDevices(5000, 'fleet-')).toEqual({ added: 5000 });
    // Seeding again adds nothing: the ids exist.
    expect(emulator.hubs.registry(hubName).seedDevices(5000, 'fleet-')).toEqual({ added: 0 });
    const hub = registryFor(emulator, hubName);
    expect((await hub.getRegistryStatistics()).responseBody).toEqual({
      totalDeviceCount: 5000,
      enabledDeviceCount: 5000,
      disabledDeviceCount: 0,
    });
    const device = (await hub.get('fleet-04321')).responseBody;
    expect(device).toMatchObject({ status: 'enabled', authentication: { type: 'sas' } });
    // Seeded keys are stable: derived, not random at each read.
    expect((await hub.get('fleet-04321')).responseBody.authentication).toEqual(device.authentication);
    expect(emulator.hubs.registry(hubName).getDevice('fleet-04321')).toEqual(device);
  });
});

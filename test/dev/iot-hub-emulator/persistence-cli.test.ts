// The hubs' registries in the DPS emulator's data file (kept across a restart, and absent from files written before
// the hubs were emulated), and the hubs in the command line (--hub-port, the ready line).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseCliArguments, runCli } from '../../../dev/dps-emulator/cli';
import { HUB_A, HUB_B, registryFor, startTestEmulator } from './support';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'iot-hub-emulator-test-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('data file', () => {
  it('keeps devices, twins, counts and policy keys across a restart', async () => {
    const dataFile = path.join(directory, 'state.json');
    const first = await startTestEmulator({ dataFile });
    let device: Awaited<ReturnType<ReturnType<typeof registryFor>['get']>>['responseBody'];
    let twinEtag: string;
    try {
      const registry = registryFor(first, HUB_A);
      await registry.create({ deviceId: 'kept-device', status: 'disabled' });
      const twin = (await registry.updateTwin('kept-device', { tags: { kept: true } }, '*')).responseBody;
      twinEtag = twin.etag;
      device = (await registry.get('kept-device')).responseBody;
      first.hubs.registry(HUB_B).seedDevices(10, 'kept-seed-');
    } finally {
      await first.stop();
    }
    const second = await startTestEmulator({ dataFile });
    try {
      expect(second.hubConnectionString(HUB_A)).toBe(first.hubConnectionString(HUB_A));
      const registry = registryFor(second, HUB_A);
      expect((await registry.get('kept-device')).responseBody).toEqual(device);
      const twin = (await registry.getTwin('kept-device')).responseBody;
      expect(twin).toMatchObject({ etag: twinEtag, tags: { kept: true } });
      expect((await registry.getRegistryStatistics()).responseBody).toEqual({
        totalDeviceCount: 1,
        enabledDeviceCount: 0,
        disabledDeviceCount: 1,
      });
      const seeded = second.hubs.registry(HUB_B);
      expect(seeded.statistics().totalDeviceCount).toBe(10);
      expect(seeded.getDevice('kept-seed-00003')).toEqual(
        first.hubs.registry(HUB_B).getDevice('kept-seed-00003'),
      );
      // Etags move on from the saved ones.
      const updated = (await registry.update({ ...device, status: 'enabled' })).responseBody;
      expect(updated.etag).not.toBe(device.etag);
    } finally {
      await second.stop();
    }
  });

  it('reads a data file written before the hubs were emulated: the linked hubs start empty', async () => {
    const dataFile = path.join(directory, 'old.json');
    const first = await startTestEmulator({ dataFile });
    await first.stop();
    const saved = JSON.parse(await readFile(dataFile, 'utf8')) as Record<string, unknown>;
    expect(saved.hubs).toHaveLength(3);
    delete saved.hubs;
    await writeFile(dataFile, JSON.stringify(saved));

    const second = await startTestEmulator({ dataFile });
    try {
      expect(second.hubs.hostNames()).toEqual(second.linkedHubs.map((hub) => hub.hostName));
      expect((await registryFor(second, HUB_A).getRegistryStatistics()).responseBody.totalDeviceCount).toBe(
        0,
      );
      await second.save();
      const rewritten = JSON.parse(await readFile(dataFile, 'utf8')) as { hubs?: unknown[] };
      expect(rewritten.hubs).toHaveLength(3);
    } finally {
      await second.stop();
    }
  });
});

describe('command line', () => {
  it('takes --hub-port and DPS_EMULATOR_HUB_PORT (default: any free port)', () => {
    expect(parseCliArguments([], {}).options.hubPort).toBe(0);
    expect(parseCliArguments(['--hub-port', '9444'], {}).options.hubPort).toBe(9444);
    expect(parseCliArguments([], { DPS_EMULATOR_HUB_PORT: '9445' }).options.hubPort).toBe(9445);
    expect(() => parseCliArguments(['--hub-port', '70000'], {})).toThrow(/--hub-port/);
  });

  it('prints the hub endpoint and every hub with its connection strings in the ready line', async () => {
    const out: string[] = [];
    const emulator = await runCli(
      [
        '--port',
        '0',
        '--mqtt-port',
        '0',
        '--mqtt-ws-port',
        '0',
        '--cert-dir',
        directory,
        '--linked-hub',
        HUB_A,
      ],
      {},
      { stdout: (line) => out.push(line), stderr: () => undefined },
    );
    try {
      const ready = JSON.parse(out[0]!) as Record<string, unknown>;
      expect(ready).toMatchObject({
        hubEndpoint: `https://127.0.0.1:${emulator!.hubPort}`,
        hubPort: emulator!.hubPort,
        hubs: [
          {
            hostName: HUB_A,
            connectionString: emulator!.hubConnectionString(HUB_A),
            readOnlyConnectionString: emulator!.hubConnectionString(HUB_A, 'registryRead'),
          },
        ],
      });
      expect(emulator!.hubConnectionString(HUB_A, 'registryRead')).toMatch(
        /^HostName=hub-a\.azure-devices\.net;SharedAccessKeyName=registryRead;SharedAccessKey=[A-Za-z0-9+/]+=*$/,
      );
    } finally {
      await emulator?.stop();
    }
  });
});

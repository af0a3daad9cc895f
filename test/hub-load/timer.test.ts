// The hub-load timer against the IoT Hub emulator and Azurite: each hub's registry statistics become a row of
// <prefix>HubLoad; a hub that cannot be read keeps its last counts and readAt with the error recorded; rows of hubs
// no longer configured go; one log line per run; no key in rows or logs.
import { hubLoadTableName } from '../../src/hub-load/table';
import {
  HUB_A,
  HUB_B,
  HUB_C,
  keysOf,
  recordingLog,
  startHubLoadEnvironment,
  tableEntities,
  type HubLoadEnvironment,
} from './support/environment';

let env: HubLoadEnvironment;

beforeAll(async () => {
  env = await startHubLoadEnvironment();
  env.emulator.hubs.registry(HUB_A).seedDevices(120, 'a-');
  env.emulator.hubs.registry(HUB_B).seedDevices(7, 'b-');
}, 60_000);

afterAll(async () => {
  await env?.stop();
});

const rowsOf = async (settings: NodeJS.ProcessEnv) =>
  (await tableEntities(env.azurite.connectionString, hubLoadTableName(settings.AUDIT_TABLE_PREFIX!))).sort(
    (a, b) => String(a.hostName).localeCompare(String(b.hostName)),
  );

it('writes one row per hub from its registry statistics, and logs one line of counts', async () => {
  const settings = env.settings();
  const log = recordingLog();
  const before = Date.now();
  const run = await env.timer(settings).run(log);
  expect(run).toMatchObject({
    hubs: 3,
    read: 3,
    failed: 0,
    devices: { [HUB_A]: 120, [HUB_B]: 7, [HUB_C]: 0 },
    errors: {},
  });
  const rows = await rowsOf(settings);
  expect(rows.map((row) => [row.partitionKey, row.rowKey, row.hostName])).toEqual([
    ['hubs', HUB_A, HUB_A],
    ['hubs', HUB_B, HUB_B],
    ['hubs', HUB_C, HUB_C],
  ]);
  expect(rows[0]).toMatchObject({ totalDeviceCount: 120, enabledDeviceCount: 120, disabledDeviceCount: 0 });
  expect(rows[1]).toMatchObject({ totalDeviceCount: 7, enabledDeviceCount: 7, disabledDeviceCount: 0 });
  for (const row of rows) {
    expect(row.lastError).toBeUndefined();
    expect((row.readAt as Date).getTime()).toBeGreaterThanOrEqual(before - 1000);
  }
  expect(log.lines).toEqual([{ level: 'log', message: expect.any(String) }]);
  expect(JSON.parse(log.lines[0]!.message)).toMatchObject({
    event: 'hub-load-run',
    devices: { [HUB_A]: 120, [HUB_B]: 7, [HUB_C]: 0 },
  });
});

it('keeps the last counts and readAt of a hub it cannot read, records why, and stores or logs no key', async () => {
  const settings = env.settings();
  await env.timer(settings).run(recordingLog());
  const [firstA] = await rowsOf(settings);

  // The same hubs, HUB_A's key now wrong: HUB_A answers 401, the others are read again.
  const wrongKey = Buffer.alloc(32, 7).toString('base64');
  const connectionStrings = [
    `HostName=${HUB_A};SharedAccessKeyName=registryRead;SharedAccessKey=${wrongKey}`,
    env.emulator.hubConnectionString(HUB_B, 'registryRead'),
    env.emulator.hubConnectionString(HUB_C, 'registryRead'),
  ].join('|');
  env.emulator.hubs.registry(HUB_B).seedDevices(3, 'b2-');
  const log = recordingLog();
  const run = await env.timer({ ...settings, HUB_LOAD_CONNECTION_STRINGS: connectionStrings }).run(log);

  expect(run).toMatchObject({ read: 2, failed: 1, devices: { [HUB_A]: null, [HUB_B]: 10, [HUB_C]: 0 } });
  expect(run!.errors[HUB_A]).toMatch(
    /IoT Hub getDeviceStatistics of contoso-load-a\.azure-devices\.net failed \(HTTP 401/,
  );
  const [a, b] = await rowsOf(settings);
  expect(a).toMatchObject({
    totalDeviceCount: 120,
    readAt: firstA!.readAt,
    lastError: run!.errors[HUB_A],
  });
  expect((a!.attemptedAt as Date).getTime()).toBeGreaterThan((firstA!.readAt as Date).getTime());
  expect(b).toMatchObject({ totalDeviceCount: 10 });
  expect(b!.lastError).toBeUndefined();
  expect(log.lines.map((line) => line.level)).toEqual(['warn']);

  const stored = JSON.stringify(await rowsOf(settings));
  for (const key of [wrongKey, ...keysOf(settings.HUB_LOAD_CONNECTION_STRINGS!)]) {
    expect(stored).not.toContain(key);
    expect(JSON.stringify(log.lines)).not.toContain(key);
  }
  expect(stored).not.toMatch(/SharedAccessSignature|sig=/);
});

it('records a hub the emulator does not have, and deletes the rows of hubs no longer configured', async () => {
  const settings = env.settings();
  await env.timer(settings).run(recordingLog());
  const missing = 'contoso-load-missing.azure-devices.net';
  const someKey = Buffer.alloc(32, 1).toString('base64');
  const run = await env
    .timer({
      ...settings,
      HUB_LOAD_HUBS: `${HUB_B},${missing}`,
      HUB_LOAD_CONNECTION_STRINGS:
        `${settings.HUB_LOAD_CONNECTION_STRINGS}\n` +
        `HostName=${missing};SharedAccessKeyName=registryRead;SharedAccessKey=${someKey}`,
    })
    .run(recordingLog());
  expect(run).toMatchObject({ hubs: 2, read: 1, failed: 1, removed: 2 });
  const rows = await rowsOf(settings);
  expect(rows.map((row) => row.hostName)).toEqual([HUB_B, missing]);
  expect(rows[1]).toMatchObject({ lastError: expect.stringMatching(/HTTP 404, IotHubNotFound/) });
  expect(rows[1]!.totalDeviceCount).toBeUndefined();
  expect(rows[1]!.readAt).toBeUndefined();
});

it('does nothing without HUB_LOAD_HUBS', async () => {
  const settings = env.settings([], { HUB_LOAD_HUBS: '', HUB_LOAD_CONNECTION_STRINGS: '' });
  const log = recordingLog();
  await expect(env.timer(settings).run(log)).resolves.toBeUndefined();
  expect(log.lines).toEqual([]);
  expect(await rowsOf(settings)).toEqual([]);
});

// `npm run audit -- hubs` in-process, on rows of the HubLoad table in Azurite and an inline policy with caps: one
// line per hub (devices, cap, fill, drain, read time, age), the failed reads and why, --json, one-line errors.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type Azurite } from '../../../dev/azurite';
import { main } from '../../../src/cli/audit/main';
import type { HubsReport } from '../../../src/hub-load/report';
import { HubLoadStore } from '../../../src/hub-load/store';
import { failedRow, readRow } from '../../../src/hub-load/table';

const HUB_A = 'cli-load-a.azure-devices.net';
const HUB_B = 'cli-load-b.azure-devices.net';
const HUB_C = 'cli-load-c.azure-devices.net';

let azurite: Azurite;
let folder: string;
let settings: NodeJS.ProcessEnv;

async function audit(argv: string[], env: NodeJS.ProcessEnv = settings) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    cwd: folder,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  azurite = await startAzurite();
  folder = mkdtempSync(path.join(os.tmpdir(), 'hubs-cli-'));
  settings = {
    AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString,
    AUDIT_TABLE_PREFIX: 'CliHubs',
    HUB_LOAD_HUBS: `${HUB_A},${HUB_B}`,
    ALLOCATION_POLICY: JSON.stringify({
      hubs: {
        a: { hostName: HUB_A, maxDevices: 1000 },
        b: { hostName: HUB_B, maxDevices: 40, drain: true },
        c: { hostName: HUB_C },
      },
    }),
  };
  const store = new HubLoadStore({
    connection: { kind: 'connectionString', connectionString: azurite.connectionString },
    tablePrefix: 'CliHubs',
  });
  const now = Date.now();
  const counts = (total: number) => ({
    totalDeviceCount: total,
    enabledDeviceCount: total,
    disabledDeviceCount: 0,
  });
  await store.write([
    readRow(HUB_A, counts(1234), new Date(now - 20_000)),
    failedRow(
      HUB_B,
      readRow(HUB_B, counts(30), new Date(now - 900_000)),
      'IoT Hub getDeviceStatistics failed (HTTP 401)',
      new Date(now),
    ),
  ]);
});

afterAll(async () => {
  await azurite?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

it('prints each hub with its devices, cap, fill, drain and the age of its count, then the failed reads', async () => {
  const result = await audit(['hubs']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const lines = result.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^HUB +ALIAS +DEVICES +CAP +FILL +DRAIN +READ +AGE$/);
  expect(lines[2]).toMatch(
    new RegExp(
      `^${HUB_A} +a +1,234 +1,000 +123\\.4% +– +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +(19|20|21)\\.\\d s$`,
    ),
  );
  expect(lines[3]).toMatch(
    new RegExp(`^${HUB_B} +b +30 +40 +75\\.0% +yes +\\S+ \\S+ +15 min 0\\d s \\(stale\\)$`),
  );
  expect(lines[4]).toMatch(new RegExp(`^${HUB_C} +c +– +– +– +– +– +–$`));
  expect(result.stdout).toContain('Counts older than 5 min 00 s are stale');
  expect(result.stdout).toContain(
    `Last read failed:\n  ${HUB_B}: IoT Hub getDeviceStatistics failed (HTTP 401)`,
  );
  expect(result.stdout).toContain(`Not in HUB_LOAD_HUBS (no counts read): ${HUB_C}.`);
});

it('prints the report as JSON with --json', async () => {
  const result = await audit(['hubs', '--json']);
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout) as HubsReport;
  expect(report.hubs.map((hub) => [hub.hostName, hub.devices, hub.maxDevices, hub.drain, hub.stale])).toEqual(
    [
      [HUB_A, 1234, 1000, false, false],
      [HUB_B, 30, 40, true, true],
      [HUB_C, null, null, false, true],
    ],
  );
});

it('says so when there is no hub, and explains an unreachable storage in one line', async () => {
  const none = await audit(['hubs'], {
    ...settings,
    HUB_LOAD_HUBS: '',
    ALLOCATION_POLICY: '{}',
    AUDIT_TABLE_PREFIX: 'CliNoHubs',
  });
  expect(none.stdout.trim()).toBe('No hubs: HUB_LOAD_HUBS is empty and the allocation policy names no hub.');
  expect((await audit(['--help'])).stdout).toContain('  hubs [--json]');
  expect((await audit(['hubs', '--all'])).code).toBe(2);

  const down = await audit(['hubs'], {
    ...settings,
    AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString.replace(/:\d+\//, ':1/'),
  });
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(
    /^audit hubs: cannot reach table storage at http:\/\/127\.0\.0\.1:1\/devstoreaccount1 \(ECONNREFUSED\)\./,
  );
  expect(down.stderr.trim().split('\n')).toHaveLength(1);
});

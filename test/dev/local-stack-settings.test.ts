// The local stack's settings: yours (environment, local.settings.json) win over its defaults; it writes into
// local.settings.json only what is its own, updates its own values on a later start (and says why), and restores
// the environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSettingsPart, type LocalDefault } from '../../dev/local-stack/settings-part';

let appRoot: string;
let recordFile: string;
const settingsFile = () => path.join(appRoot, 'local.settings.json');

beforeEach(() => {
  appRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-settings-'));
  recordFile = path.join(appRoot, '.local/local-stack/settings-written.json');
});
afterEach(() => fs.rmSync(appRoot, { recursive: true, force: true }));

function writeSettings(values: Record<string, string>): void {
  fs.writeFileSync(
    settingsFile(),
    JSON.stringify({ IsEncrypted: false, Values: values, Host: { LocalHttpPort: 7099 } }),
  );
}

function fileValues(): Record<string, string> {
  return (JSON.parse(fs.readFileSync(settingsFile(), 'utf8')) as { Values: Record<string, string> }).Values;
}

const defaults = (dps: string): LocalDefault[] => [
  { name: 'DPS_CONNECTION_STRING', value: dps, writeToFile: true },
  { name: 'AUDIT_STORAGE_CONNECTION_STRING', value: 'UseDevelopmentStorage=true', writeToFile: true },
  { name: 'AUDIT_SCHEDULE', value: '*/20 * * * * *', showValue: true },
  { name: 'AUDIT_ASSIGNING_GRACE_MINUTES', value: '1', showValue: true },
];

it('keeps your values, fills in the rest, and writes only its own file settings', async () => {
  writeSettings({ AUDIT_ASSIGNING_GRACE_MINUTES: '5', DPS_CONNECTION_STRING: '', OTHER: 'kept' });
  const env: NodeJS.ProcessEnv = { AUDIT_SCHEDULE: '0 0 * * * *' };

  const part = await startSettingsPart({ appRoot, recordFile, defaults: defaults('HostName=a'), env });

  expect(env).toEqual({
    AUDIT_SCHEDULE: '0 0 * * * *', // environment
    AUDIT_ASSIGNING_GRACE_MINUTES: '5', // local.settings.json
    OTHER: 'kept',
    DPS_CONNECTION_STRING: 'HostName=a', // an empty value in the file is no value
    AUDIT_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  });
  expect([part.sourceOf('AUDIT_SCHEDULE'), part.sourceOf('AUDIT_ASSIGNING_GRACE_MINUTES')]).toEqual([
    'environment',
    'local.settings.json',
  ]);
  expect(part.localHttpPort).toBe(7099);
  expect(part.written).toEqual(['DPS_CONNECTION_STRING', 'AUDIT_STORAGE_CONNECTION_STRING']);
  expect(fileValues()).toEqual({
    AUDIT_ASSIGNING_GRACE_MINUTES: '5',
    DPS_CONNECTION_STRING: 'HostName=a',
    OTHER: 'kept',
    AUDIT_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  });
  expect(part.banner.join('\n')).not.toContain('HostName=a'); // connection strings are named, not shown

  await part.stop();
  expect(env).toEqual({ AUDIT_SCHEDULE: '0 0 * * * *' });
});

it('updates its own values on a later start, and keeps a value you changed since', async () => {
  const first = await startSettingsPart({ appRoot, recordFile, defaults: defaults('HostName=a'), env: {} });
  await first.stop();
  expect(fileValues().DPS_CONNECTION_STRING).toBe('HostName=a');

  // New emulator keys (e.g. after --reset): the stack's own value follows.
  const env: NodeJS.ProcessEnv = {};
  const second = await startSettingsPart({ appRoot, recordFile, defaults: defaults('HostName=b'), env });
  expect(env.DPS_CONNECTION_STRING).toBe('HostName=b');
  expect(second.written).toEqual(['DPS_CONNECTION_STRING']);
  expect(fileValues().DPS_CONNECTION_STRING).toBe('HostName=b');
  await second.stop();

  // You edit it: from then on it is yours.
  writeSettings({ ...fileValues(), DPS_CONNECTION_STRING: 'HostName=mine' });
  const third = await startSettingsPart({ appRoot, recordFile, defaults: defaults('HostName=c'), env: {} });
  expect(third.sourceOf('DPS_CONNECTION_STRING')).toBe('local.settings.json');
  expect(third.written).toEqual([]);
  expect(fileValues().DPS_CONNECTION_STRING).toBe('HostName=mine');
  await third.stop();
});

it('says which of its values it updated and why, and which of yours differ from its own', async () => {
  const basis = (port: string) => ({ 'storage port': port, 'data folder': '.local' });
  const start = (dps: string, port: string) =>
    startSettingsPart({ appRoot, recordFile, defaults: defaults(dps), basis: basis(port), env: {} });
  await (await start('HostName=a;SharedAccessKey=s1', '10002')).stop();
  writeSettings({ ...fileValues(), AUDIT_STORAGE_CONNECTION_STRING: 'AccountName=mine;AccountKey=k' });

  const second = await start('HostName=b;SharedAccessKey=s2', '41611');
  expect([second.written, second.updated]).toEqual([['DPS_CONNECTION_STRING'], ['DPS_CONNECTION_STRING']]);
  const banner = second.banner.join('\n');
  expect(banner).toContain(
    'updated: DPS_CONNECTION_STRING in local.settings.json, values it wrote there earlier (storage port 10002 → 41611)',
  );
  expect(banner).toContain('kept yours: AUDIT_STORAGE_CONNECTION_STRING (local.settings.json)');
  expect(banner).toContain(
    "yours differ from this stack's (delete them in local.settings.json to use its own): " +
      'AUDIT_STORAGE_CONNECTION_STRING',
  );
  for (const secret of ['s1', 's2', 'AccountKey=k']) expect(banner).not.toContain(secret);
  await second.stop();
});

it('refuses a malformed local.settings.json with a clear error, leaving the environment alone', async () => {
  fs.writeFileSync(settingsFile(), '{ "Values": ');
  const env: NodeJS.ProcessEnv = {};
  await expect(startSettingsPart({ appRoot, recordFile, defaults: defaults('x'), env })).rejects.toThrow(
    /local\.settings\.json is not valid JSON/,
  );
  expect(env).toEqual({});
});

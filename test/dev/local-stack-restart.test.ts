// `npm start`, stopped, then started again on other ports and another data folder: the connection settings the
// first start wrote into local.settings.json are the stack's own and follow the new Azurite and emulator, so that
// the decision log, the audit API and the scans work; a value you wrote there by hand is kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type * as StartModule from '../../dev/start';
import type { LocalStack, LocalStackOptions } from '../../dev/start';
import { saveStackEnvironment } from './support/stack-environment';

const repoRoot = path.resolve(__dirname, '../..');
/** Your own storage account, written by hand over the value the first start wrote. */
const MY_STORAGE =
  'DefaultEndpointsProtocol=https;AccountName=mine;AccountKey=bXkta2V5;EndpointSuffix=core.windows.net';

const savedEnv = saveStackEnvironment();
let appRoot: string;
let running: { stack: LocalStack; stop: () => Promise<void> } | undefined;

/**
 * One `npm start`, in a module registry of its own: the function files read their settings when they load, as
 * in a new process (the same registry would serve the first start's functions again).
 */
async function start(dataDir: string): Promise<LocalStack> {
  let started: LocalStack | undefined;
  let stopParts: ((parts: LocalStack['parts']) => Promise<void>) | undefined;
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const stack = require('../../dev/start') as typeof StartModule;
    const options: LocalStackOptions = {
      appRoot,
      functionsDir: path.join(repoRoot, 'src/functions'),
      port: 0,
      storagePort: 0,
      dpsPort: 0,
      dataDir: path.join(appRoot, dataDir),
      enableTimers: false,
      demo: false,
      reset: false,
      log: () => undefined,
      hostLog: () => undefined,
    };
    started = await stack.startLocalStack(options);
    stopParts = stack.stopLocalStack;
  });
  const stack = started!;
  running = { stack, stop: () => stopParts!(stack.parts) };
  return stack;
}

async function stop(): Promise<void> {
  const current = running;
  running = undefined;
  await current?.stop();
}

function fileValues(): Record<string, string> {
  const file = path.join(appRoot, 'local.settings.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { Values: Record<string, string> }).Values;
}

function writeFileValues(values: Record<string, string>): void {
  const file = path.join(appRoot, 'local.settings.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values: Record<string, string> };
  fs.writeFileSync(file, JSON.stringify({ ...json, Values: values }, null, 2));
}

/** GET of one of the stack's HTTP functions, with its key. */
async function api(
  stack: LocalStack,
  name: string,
): Promise<{ status: number; body: { items?: unknown[] } }> {
  const key = new URL(stack.webhookUrl!).searchParams.get('code')!;
  const response = await fetch(`${stack.host.functionUrl(name)}?code=${encodeURIComponent(key)}`);
  return { status: response.status, body: (await response.json()) as { items?: unknown[] } };
}

beforeAll(() => {
  appRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'local-stack-restart-'));
  savedEnv.clear();
});

afterAll(async () => {
  await stop().catch(() => undefined);
  savedEnv.restore();
  if (appRoot) fs.rmSync(appRoot, { recursive: true, force: true });
});

it('rewrites its own settings for the new ports and data folder, and keeps the one you edited', async () => {
  const first = await start('first');
  const firstPorts = [first.azurite.port, first.emulator.port];
  await stop();
  writeFileValues({ ...fileValues(), AzureWebJobsStorage: MY_STORAGE, MY_SETTING: 'by hand' });

  const second = await start('second');
  expect([second.azurite.port, second.emulator.port]).not.toEqual(firstPorts);
  expect(fileValues()).toEqual({
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: MY_STORAGE, // yours since you edited it
    MY_SETTING: 'by hand',
    AUDIT_STORAGE_CONNECTION_STRING: second.azurite.connectionString,
    DPS_CONNECTION_STRING: second.emulator.readOnlyConnectionString,
    DPS_CA_CERTIFICATE_PATH: second.emulator.caCertificatePath,
    // The topic's key is kept in the data folder: a new folder, a new key.
    EVENTS_TOPIC_ENDPOINT: second.topic.endpoint,
    EVENTS_TOPIC_KEY: second.topic.key,
    // The same on every start: not rewritten.
    AUDIT_DPS_LOGS_CONTAINER: 'insights-logs-deviceoperations',
    AUDIT_DPS_LOGS_PREFIX: second.emulator.resourceLogs!.blobPrefix,
    HUB_LOAD_HUBS: second.emulator.linkedHubs.map((hub) => hub.hostName).join(','),
  });
  const banner = second.settings.banner.join('\n');
  expect(banner).toContain('kept yours: AzureWebJobsStorage (local.settings.json)');
  expect(banner).toMatch(
    /updated: AUDIT_STORAGE_CONNECTION_STRING, DPS_CONNECTION_STRING, DPS_CA_CERTIFICATE_PATH, EVENTS_TOPIC_ENDPOINT, EVENTS_TOPIC_KEY .*\(storage port \d+ → \d+, DPS port \d+ → \d+, events port \d+ → \d+, data folder first → second\)/,
  );
  for (const secret of [
    'bXkta2V5',
    second.topic.key,
    /SharedAccessKey=([^;]+)/.exec(second.emulator.readOnlyConnectionString)![1]!,
  ])
    expect(banner).not.toContain(secret);

  // The decision log writes into the second Azurite (read back through GET /api/decisions).
  const allocate = await fetch(second.webhookUrl!, {
    method: 'POST',
    body: JSON.stringify({
      enrollmentGroup: { enrollmentGroupId: 'restart-group', attestation: { type: 'symmetricKey' } },
      deviceRuntimeContext: { registrationId: 'restart-contoso-tstrsd-001', symmetricKey: {} },
      linkedHubs: second.emulator.linkedHubs.map((hub) => hub.hostName),
    }),
  });
  expect(allocate.status).toBe(200);
  let decisions = await api(second, 'decisions');
  for (let waited = 0; decisions.body.items?.length === 0 && waited < 5_000; waited += 100) {
    await delay(100);
    decisions = await api(second, 'decisions');
  }
  expect(decisions).toMatchObject({
    status: 200,
    body: { items: [expect.objectContaining({ registrationId: 'restart-contoso-tstrsd-001' })] },
  });

  // A scan reaches the second emulator and completes; the audit API reads the second Azurite.
  await second.host.invokeTimer('audit');
  expect(await api(second, 'auditScans')).toMatchObject({
    status: 200,
    body: { items: [expect.objectContaining({ outcome: 'completed' })] },
  });
  expect(await api(second, 'auditProblems')).toMatchObject({ status: 200, body: { items: [] } });

  await stop();
}, 30_000);

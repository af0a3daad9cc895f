// `npm start` headless, in-process, on ephemeral ports and a temporary data folder: Azurite, the DPS emulator, the
// real functions (src/functions) and the demo. The flow of the issue: devices are assigned by the webhook, the
// rejected ones fail with 400207/400209, the audit lists them (through the tables and the audit CLI reading only
// the local.settings.json the stack wrote), everything stops, and a second start reuses the data.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DEMO_GROUPS } from '../../dev/local-stack/demo-fleet';
import { HEATPUMPS_HUB, TOASTERS_HUB } from '../../dev/local-stack/emulator-part';
import { EU_HUB, US_HUB, X509_DEMO_DEVICES, X509_DEMO_GROUP_ID } from '../../dev/local-stack/x509-demo-fleet';
import {
  LOCAL_ASSIGNING_GRACE_MINUTES,
  parseStartArgs,
  startLocalStack,
  stopLocalStack,
  type LocalStack,
  type LocalStackOptions,
} from '../../dev/start';
import { main as auditCli } from '../../src/cli/audit/main';
import { listProblems, recentScans } from '../../src/audit/read/queries';
import { readDecisions } from '../../src/decisions/queries';
import { DecisionStore } from '../../src/decisions/store';
import { AuditStore } from '../../src/audit/store';
import type { ProblemRow } from '../../src/audit/rows/tables';
import { saveStackEnvironment } from './support/stack-environment';

const repoRoot = path.resolve(__dirname, '../..');
/** The X.509 devices DPS refuses at attestation: an expired certificate, and one from an unknown CA. */
const REFUSED_X509 = new Map([
  ['contoso-eu-meter-expired', 401002],
  ['rogue-meter-001', 401002],
]);
/** The user's own schedule (environment) wins over the local default, and makes the timer run every 2 s. */
const USER_SCHEDULE = '*/2 * * * * *';

const savedEnv = saveStackEnvironment(['CUSTOM_SETTING']);
let appRoot: string;
const lines: string[] = [];
let stack: LocalStack | undefined;
let firstHostPort: number;

function options(overrides: Partial<LocalStackOptions> = {}): LocalStackOptions {
  return {
    appRoot,
    functionsDir: path.join(repoRoot, 'src/functions'),
    port: 0,
    storagePort: 0,
    dpsPort: 0,
    dataDir: path.join(appRoot, '.local'),
    enableTimers: true,
    demo: true,
    reset: false,
    log: (line) => lines.push(line),
    hostLog: (line) => lines.push(line),
    deviceRetryAfterSeconds: 0,
    deviceAssignmentDelayMs: 0,
    deviceQuotas: false,
    ...overrides,
  };
}

function readLocalSettings(): Record<string, string> {
  const json = JSON.parse(fs.readFileSync(path.join(appRoot, 'local.settings.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  return json.Values;
}

function storeOf(running: LocalStack): AuditStore {
  return new AuditStore({
    connection: { kind: 'connectionString', connectionString: running.azurite.connectionString },
  });
}

async function openProblems(running: LocalStack): Promise<ProblemRow[]> {
  return (await listProblems(storeOf(running), { resolved: false }, { pageSize: 1000 })).items;
}

/** registrationId -> errorCode of every failed registration the emulator holds. */
function failedInEmulator(running: LocalStack): Map<string, number | undefined> {
  const failed = new Map<string, number | undefined>();
  for (const id of DEMO_GROUPS.flatMap((group) => group.registrationIds)) {
    const registration = running.emulator.getRegistration(id);
    if (registration?.status === 'failed') failed.set(id, registration.errorCode);
  }
  return failed;
}

function decisions(registrationId: string): Record<string, unknown>[] {
  return lines
    .map((line) => line.slice(line.indexOf('{')))
    .filter((json) => json.startsWith('{"event":"allocation"'))
    .map((json) => JSON.parse(json) as Record<string, unknown>)
    .filter((decision) => decision.registrationId === registrationId);
}

async function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function stopAndCheckPorts(running: LocalStack): Promise<void> {
  const ports = [
    running.azurite.port,
    running.emulator.port,
    running.host.port,
    Number(new URL(running.topic.endpoint).port),
  ];
  await stopLocalStack(running.parts);
  stack = undefined;
  for (const port of ports) expect(await portIsClosed(port)).toBe(true);
}

const group = (id: string) => DEMO_GROUPS.find((g) => g.id === id)!;
const toasters = group('contoso-custom-allocated-devices').registrationIds.filter((id) =>
  id.includes('-contoso-tstrsd-'),
);
const heatpumps = group('contoso-custom-allocated-devices').registrationIds.filter((id) =>
  id.includes('-contoso-hpsd-'),
);
const rejectedByPolicy = group('demo-no-heatpumps-hub').registrationIds.filter((id) =>
  id.includes('-contoso-hpsd-'),
);
const wrongKey = group('demo-wrong-key').registrationIds;

beforeAll(async () => {
  appRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'local-stack-'));
  savedEnv.clear();
  process.env.AUDIT_SCHEDULE = USER_SCHEDULE;
  // Your values in local.settings.json are kept, and win over the local defaults.
  fs.writeFileSync(
    path.join(appRoot, 'local.settings.json'),
    JSON.stringify({
      IsEncrypted: false,
      Values: { AUDIT_ASSIGNING_GRACE_MINUTES: '5', CUSTOM_SETTING: 'x' },
    }),
  );
  stack = await startLocalStack(options());
  firstHostPort = stack.host.port;
}, 60_000);

afterAll(async () => {
  if (stack) await stopLocalStack(stack.parts).catch(() => undefined);
  savedEnv.restore();
  if (appRoot) fs.rmSync(appRoot, { recursive: true, force: true });
});

describe('a first start', () => {
  it('assigns the demo devices through the allocate webhook, with the tutorial twins', () => {
    const running = stack!;
    for (const id of toasters) {
      expect(running.emulator.getRegistration(id)).toMatchObject({
        status: 'assigned',
        assignedHub: TOASTERS_HUB,
        initialTwin: {
          tags: { deviceType: 'toaster' },
          properties: { desired: { state: 'ready', darknessSetting: 'medium' } },
        },
      });
    }
    for (const id of heatpumps) {
      expect(running.emulator.getRegistration(id)).toMatchObject({
        status: 'assigned',
        assignedHub: HEATPUMPS_HUB,
        initialTwin: { tags: { deviceType: 'heatpump' } },
      });
    }
    // The function decided, not the emulator: its decision log names the rule.
    expect(decisions(toasters[0]!)).toEqual([
      expect.objectContaining({ outcome: 'assigned', rule: 'toasters', hub: TOASTERS_HUB }),
    ]);
    expect(running.demo?.devices).toHaveLength(24 + X509_DEMO_DEVICES.length);
  });

  it('provisions the X.509 meters over MQTT (one over WebSocket) by their certificate, and refuses the expired and unknown-CA ones', () => {
    const running = stack!;
    const outcome = (id: string) => running.demo!.devices.find((device) => device.registrationId === id)!;
    for (const id of ['contoso-eu-meter-001', 'contoso-eu-meter-002', 'contoso-eu-meter-003']) {
      expect(running.emulator.getRegistration(id)).toMatchObject({
        status: 'assigned',
        assignedHub: EU_HUB,
        enrollmentGroupId: X509_DEMO_GROUP_ID,
        initialTwin: { tags: { region: 'eu', certificate: { rotationDue: false } } },
      });
    }
    expect(running.emulator.getRegistration('contoso-eu-meter-004')).toMatchObject({
      assignedHub: EU_HUB,
      initialTwin: { tags: { region: 'eu', certificate: { rotationDue: true } } },
    });
    expect(running.emulator.getRegistration('contoso-us-meter-003')).toMatchObject({
      status: 'assigned',
      assignedHub: US_HUB,
    });
    expect(outcome('contoso-us-meter-003').transport).toBe('mqttWs');
    expect(decisions('contoso-eu-meter-004')).toEqual([
      expect.objectContaining({ outcome: 'assigned', rule: 'eu-rotation-due', hub: EU_HUB }),
    ]);
    for (const id of ['contoso-eu-meter-expired', 'rogue-meter-001']) {
      expect(outcome(id).status).toBe('refused');
      expect(running.emulator.getRegistration(id)).toBeUndefined();
    }
    const printed = lines.join('\n');
    expect(printed).toMatch(
      /X.509 device 'contoso-eu-meter-expired' refused: the device certificate expired at/,
    );
    expect(printed).toMatch(/X.509 device 'rogue-meter-001' refused: no enrollment for the certificate/);
    // The demo CA stays in the data folder, its keys readable by the owner only.
    const caDir = path.join(appRoot, '.local/demo-ca');
    expect(fs.statSync(path.join(caDir, 'intermediate.key.pem')).mode & 0o077).toBe(0);
    expect(
      running.emulator.store.getGroup(X509_DEMO_GROUP_ID)?.value.attestation.x509?.signingCertificates
        ?.primary?.certificate,
    ).toBe(fs.readFileSync(path.join(caDir, 'intermediate.cert.pem'), 'utf8'));
  });

  it('records the demo decisions in the decision table, where `npm run audit -- decisions` reads them', async () => {
    const store = new DecisionStore({
      connection: { kind: 'connectionString', connectionString: stack!.azurite.connectionString },
    });
    const since = new Date(Date.now() - 3_600_000);
    let rows = (await readDecisions(store, { since, limit: 1000 })).items;
    for (let waited = 0; rows.length < toasters.length && waited < 5_000; waited += 250) {
      await delay(250);
      rows = (await readDecisions(store, { since, limit: 1000 })).items;
    }
    expect(rows.filter((row) => row.registrationId === toasters[0])).toEqual([
      expect.objectContaining({
        outcome: 'assigned',
        rule: 'toasters',
        hub: TOASTERS_HUB,
        assignment: 'initial',
      }),
    ]);
    expect(rows.find((row) => row.registrationId === rejectedByPolicy[0])).toMatchObject({
      outcome: 'rejected',
    });
  });

  it('fails heat pumps without a heat pump hub with 400207, and the wrong-key group with 400209', () => {
    const failed = failedInEmulator(stack!);
    expect(failed).toEqual(
      new Map([
        ...rejectedByPolicy.map((id) => [id, 400207] as const),
        ...wrongKey.map((id) => [id, 400209] as const),
      ]),
    );
    expect(decisions(rejectedByPolicy[0]!)[0]).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringContaining('none of [*-heatpumps-*] is linked'),
    });
    expect(decisions(wrongKey[0]!)).toEqual([]); // 401 from the host: the function never ran
  });

  it('records exactly the rejected devices in the audit tables, and the timer keeps scanning', async () => {
    const running = stack!;
    const problems = await openProblems(running);
    // The expired X.509 device is an individual enrollment, so the audit knows it from the enrollment; the
    // unknown-CA one has none: the audit knows it from the emulator's DeviceOperations logs.
    expect(new Map(problems.map((row) => [row.registrationId, row.errorCode]))).toEqual(
      new Map([...failedInEmulator(running), ...REFUSED_X509]),
    );
    expect(problems.find((row) => row.registrationId === 'rogue-meter-001')).toMatchObject({
      enrollmentKind: 'none',
      source: 'attestation-log',
      status: 'failed',
      errorMessage: expect.stringContaining('no enrollment for the certificate'),
    });
    // One row each: the expired device's enrollment explains it, so the logs add none.
    expect(problems.filter((row) => row.registrationId === 'contoso-eu-meter-expired')).toEqual([
      expect.objectContaining({ source: 'enrollment-certificate' }),
    ]);
    expect(running.demo?.openProblems).toBe(problems.length);

    // The demo ran one scan; the timer (every 2 s here) runs more.
    const store = storeOf(running);
    const completed = async () =>
      (await recentScans(store, 20)).filter((run) => run.outcome === 'completed').length;
    for (let waited = 0; (await completed()) < 2 && waited < 10_000; waited += 250) await delay(250);
    expect(await completed()).toBeGreaterThanOrEqual(2);
  });

  it('writes what `npm run audit` needs into local.settings.json, so that `audit list` shows the rejected devices', async () => {
    const running = stack!;
    expect(readLocalSettings()).toEqual({
      AUDIT_ASSIGNING_GRACE_MINUTES: '5',
      CUSTOM_SETTING: 'x',
      AzureWebJobsStorage: running.azurite.connectionString,
      AUDIT_STORAGE_CONNECTION_STRING: running.azurite.connectionString,
      DPS_CONNECTION_STRING: running.emulator.readOnlyConnectionString,
      DPS_CA_CERTIFICATE_PATH: running.emulator.caCertificatePath,
      AUDIT_DPS_LOGS_CONTAINER: 'insights-logs-deviceoperations',
      AUDIT_DPS_LOGS_PREFIX: running.emulator.resourceLogs!.blobPrefix,
      HUB_LOAD_HUBS: running.emulator.linkedHubs.map((hub) => hub.hostName).join(','),
      EVENTS_TOPIC_ENDPOINT: running.topic.endpoint,
      EVENTS_TOPIC_KEY: running.topic.key,
    });

    let stdout = '';
    let stderr = '';
    const code = await auditCli(['list', '--open'], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: {}, // only what the stack wrote
      cwd: appRoot,
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    for (const id of [...rejectedByPolicy, ...wrongKey, ...REFUSED_X509.keys()]) expect(stdout).toContain(id);
    for (const id of [...toasters, 'contoso-eu-meter-001']) expect(stdout).not.toContain(id);
    expect(stdout).toMatch(
      /Refused at attestation[^]*rogue-meter-001: DPS refused the device at attestation over Mqtt/,
    );
  });

  it('lands the demo devices in the hubs, and `audit hubs` shows the device count of each', async () => {
    const running = stack!;
    const inToasters = running.emulator.hubs.registry(TOASTERS_HUB).statistics().totalDeviceCount;
    expect(inToasters).toBeGreaterThanOrEqual(toasters.length);
    for (const id of toasters) {
      expect(running.emulator.hubs.registry(TOASTERS_HUB).getDevice(id)).toMatchObject({ deviceId: id });
    }
    let stdout = '';
    let stderr = '';
    const code = await auditCli(['hubs', '--json'], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      cwd: appRoot,
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(stdout) as { hubs: { hostName: string; devices?: number }[] };
    expect(report.hubs.find((hub) => hub.hostName === TOASTERS_HUB)).toMatchObject({ devices: inToasters });
    expect(report.hubs.map((hub) => hub.hostName).sort()).toEqual(
      running.emulator.linkedHubs.map((hub) => hub.hostName).sort(),
    );
  });

  it("publishes the demo's lifecycle events to the local topic, and prints each one", async () => {
    const running = stack!;
    const find = (type: string, subject: string) =>
      running.topic.events().find((event) => event.type === type && event.subject === subject);
    const expected: [string, string][] = [
      ['dps-allocator.device.assigned', toasters[0]!],
      ['dps-allocator.allocation.rejected', rejectedByPolicy[0]!],
      ['dps-allocator.problem.opened', wrongKey[0]!],
      ['dps-allocator.problem.opened', 'rogue-meter-001'],
    ];
    for (let waited = 0; expected.some(([t, s]) => !find(t, s)) && waited < 20_000; waited += 250) {
      await delay(250);
    }
    expect(find('dps-allocator.device.assigned', toasters[0]!)).toMatchObject({
      source: '/dps-allocator',
      data: expect.objectContaining({ hub: TOASTERS_HUB, outcome: 'assigned' }),
    });
    expect(find('dps-allocator.allocation.rejected', rejectedByPolicy[0]!)).toBeDefined();
    expect(find('dps-allocator.problem.opened', wrongKey[0]!)).toMatchObject({
      data: expect.objectContaining({ status: 'failed', errorCode: 400209 }),
    });
    expect(find('dps-allocator.problem.opened', 'rogue-meter-001')).toBeDefined();
    const printed = lines.filter((line) => line.includes(' [events] '));
    expect(
      printed.some((line) => line.includes('dps-allocator.device.assigned') && line.includes(toasters[0]!)),
    ).toBe(true);
  });

  it("fills the dashboard's trends as the demo runs: today's allocations per hub and problems opened", async () => {
    const running = stack!;
    const functionKey = new URL(running.webhookUrl!).searchParams.get('code')!;
    const today = new Date().toISOString().slice(0, 10);
    const read = async () => {
      const response = await fetch(`${running.host.functionUrl('trends')}?days=7`, {
        headers: { 'x-functions-key': functionKey },
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        problems: { day: string; opened: { total: number } }[];
        allocations: { day: string; byHub: Record<string, number> }[];
      };
    };
    let trends = await read();
    const toastersToday = () => trends.allocations.find((day) => day.day === today)?.byHub[TOASTERS_HUB] ?? 0;
    for (let waited = 0; toastersToday() < toasters.length && waited < 20_000; waited += 500) {
      await delay(500);
      trends = await read();
    }
    expect(toastersToday()).toBeGreaterThanOrEqual(toasters.length);
    const opened = trends.problems.reduce((sum, day) => sum + day.opened.total, 0);
    expect(opened).toBeGreaterThanOrEqual((await openProblems(running)).length);
  });

  it('lets your settings win: environment over local defaults, local.settings.json over local defaults', () => {
    const running = stack!;
    expect(process.env.AUDIT_SCHEDULE).toBe(USER_SCHEDULE);
    expect(running.settings.sourceOf('AUDIT_SCHEDULE')).toBe('environment');
    expect(process.env.AUDIT_ASSIGNING_GRACE_MINUTES).toBe('5');
    expect(running.settings.sourceOf('AUDIT_ASSIGNING_GRACE_MINUTES')).toBe('local.settings.json');
    expect(LOCAL_ASSIGNING_GRACE_MINUTES).not.toBe('5');
    expect(process.env.AUDIT_EXPECTED_WEBHOOK_URL).toBe(running.host.functionUrl('allocate'));
    expect(running.host.functions.find((fn) => fn.name === 'audit')).toMatchObject({
      schedule: USER_SCHEDULE,
    });
  });

  it('never prints a key: the function key, the DPS policy keys or the group keys', () => {
    const running = stack!;
    const functionKey = new URL(running.webhookUrl!).searchParams.get('code')!;
    const secrets = [
      functionKey,
      ...[running.emulator.serviceConnectionString, running.emulator.readOnlyConnectionString].map(
        (connectionString) => /SharedAccessKey=([^;]+)/.exec(connectionString)![1]!,
      ),
      running.emulator.deviceKey(toasters[0]!, 'contoso-custom-allocated-devices'),
      running.topic.key,
    ];
    const printed = [...lines, ...running.parts.flatMap((part) => part.banner)].join('\n');
    for (const secret of secrets) expect(printed).not.toContain(secret);
    expect(printed).not.toContain('PRIVATE KEY');
    expect(printed).toContain(
      `Webhook URL for DPS enrollments: ${running.host.functionUrl('allocate')}?code=***`,
    );
    expect(printed).toContain(`Dashboard: ${running.host.functionUrl('dashboard')}?code=***`);
  });

  it('stops everything: every port closed, process.env as before', async () => {
    await stopAndCheckPorts(stack!);
    expect(process.env.DPS_CONNECTION_STRING).toBeUndefined();
    expect(process.env.AUDIT_EXPECTED_WEBHOOK_URL).toBeUndefined();
    expect(process.env.AUDIT_ASSIGNING_GRACE_MINUTES).toBeUndefined();
    expect(process.env.AUDIT_SCHEDULE).toBe(USER_SCHEDULE);
  });
});

describe('a second start on the same data', () => {
  it('finds the groups unchanged, re-registers the devices and keeps the audit history', async () => {
    const secondStart = new Date();
    lines.length = 0;
    // The same Functions port, so that the groups' webhook URLs are still right.
    stack = await startLocalStack(options({ port: firstHostPort, enableTimers: false }));
    const running = stack;

    const configured = running.demo!.configure.flatMap((outcome) => outcome.output);
    expect(configured).toHaveLength(DEMO_GROUPS.length + 1); // and the X.509 group
    for (const line of configured) expect(line).toMatch(/: unchanged, already apiVersion 2021-10-01/);

    expect(running.emulator.getRegistration(toasters[0]!)).toMatchObject({
      status: 'assigned',
      assignedHub: TOASTERS_HUB,
    });
    expect(decisions(toasters[0]!)).toEqual([
      expect.objectContaining({ outcome: 'assigned', assignment: 'reprovision', hub: TOASTERS_HUB }),
    ]);

    const problems = await openProblems(running);
    expect(new Map(problems.map((row) => [row.registrationId, row.errorCode]))).toEqual(
      new Map([...failedInEmulator(running), ...REFUSED_X509]),
    );
    // The rows of the first start, read back from Azurite's saved data.
    for (const row of problems) expect(row.firstSeen.getTime()).toBeLessThan(secondStart.getTime());

    // The emulator listens on another ephemeral port: the stack's own values in local.settings.json follow it.
    expect(readLocalSettings().DPS_CONNECTION_STRING).toBe(running.emulator.readOnlyConnectionString);
    await stopAndCheckPorts(running);
  }, 30_000);

  it('--reset starts from scratch: no groups, a new function key', async () => {
    const keyFile = path.join(appRoot, '.local/local-stack/function-key');
    const before = fs.readFileSync(keyFile, 'utf8');
    stack = await startLocalStack(options({ reset: true, demo: false, enableTimers: false }));
    const running = stack;
    expect(running.emulator.store.getGroup('contoso-custom-allocated-devices')).toBeUndefined();
    expect(fs.readFileSync(keyFile, 'utf8')).not.toBe(before);
    // The audit tables went with the old data.
    await expect(openProblems(running)).rejects.toMatchObject({ status: 404 });
    await stopAndCheckPorts(running);
  });
});

describe('parseStartArgs', () => {
  it('defaults to the usual ports and .local, with the demo and timers on', () => {
    expect(parseStartArgs([], '/app')).toEqual({
      appRoot: '/app',
      functionsDir: path.resolve('/app', 'dist/src/functions'),
      port: undefined,
      storagePort: 10002,
      dpsPort: 8443,
      dataDir: path.resolve('/app', '.local'),
      enableTimers: true,
      demo: true,
      reset: false,
    });
  });

  it('reads every flag', () => {
    expect(
      parseStartArgs(
        [
          '--no-demo',
          '--no-timers',
          '--reset',
          '--port',
          '7171',
          '--storage-port',
          '0',
          '--dps-port',
          '9443',
          '--data-dir',
          'x',
        ],
        '/app',
      ),
    ).toMatchObject({
      demo: false,
      enableTimers: false,
      reset: true,
      port: 7171,
      storagePort: 0,
      dpsPort: 9443,
      dataDir: path.resolve('/app', 'x'),
    });
  });

  it('refuses a port that is not one', () => {
    expect(() => parseStartArgs(['--dps-port', '70000'], '/app')).toThrow(
      '--dps-port must be 0-65535, got "70000".',
    );
    expect(() => parseStartArgs(['--port', 'abc'], '/app')).toThrow('--port must be 0-65535');
  });
});

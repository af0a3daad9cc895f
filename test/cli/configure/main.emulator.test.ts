// `configure` end to end against the DPS emulator (HTTPS on 127.0.0.1), run in-process; every result is read back
// with the official service SDK (azure-iot-provisioning-service), not with the client under test.
import type {
  EnrollmentGroup as SdkGroup,
  IndividualEnrollment as SdkIndividual,
} from 'azure-iot-provisioning-service/dist/interfaces';
import { FAST_TIMING, startDpsEmulator, type DpsEmulator } from '../../../dev/dps-emulator';
import { createSdkServiceClient } from '../../../dev/dps-emulator/sdk-clients';
import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import {
  FUNCTION_APP,
  FUNCTION_KEYS_PATH,
  RESOURCE_GROUP,
  SUBSCRIPTION,
  fakeCredential,
  startFakeArm,
} from './support/fake-arm';
import { runCli, type CliRun } from './support/run-cli';

const FUNCTION_KEY = 'Zm4ta2V5LWZvci1jb25maWd1cmUtdGVzdHM=';
const FUNCTION_URL = 'https://func-dps-allocator.azurewebsites.net/api/allocate';
const KEYED_URL = `${FUNCTION_URL}?code=${encodeURIComponent(FUNCTION_KEY)}`;
const PRIMARY = Buffer.alloc(64, 11).toString('base64');
const SECONDARY = Buffer.alloc(64, 12).toString('base64');

let emulator: DpsEmulator;
let sdk: ProvisioningServiceClient;
let hub1: string;
let hub2: string;

beforeAll(async () => {
  emulator = await startDpsEmulator(FAST_TIMING);
  sdk = createSdkServiceClient(emulator, emulator.sdkServiceConnectionString);
  [hub1, hub2] = emulator.linkedHubs.map((hub) => hub.hostName) as [string, string];
});

afterAll(async () => {
  await emulator.stop();
});

/** Options that point the CLI at the emulator. */
function dps(connectionString = emulator.serviceConnectionString): string[] {
  return ['--connection-string', connectionString, '--ca-certificate', emulator.caCertificatePath];
}

function configure(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliRun> {
  return runCli([...dps(), ...args], options);
}

async function readGroup(id: string): Promise<Record<string, unknown>> {
  return (await sdk.getEnrollmentGroup(id)).responseBody as unknown as Record<string, unknown>;
}

async function groupKeys(id: string): Promise<unknown> {
  return (await sdk.getEnrollmentGroupAttestationMechanism(id)).responseBody.symmetricKey;
}

/** A symmetric-key group with every optional field set, created through the official SDK. */
async function createRichGroup(id: string): Promise<Record<string, unknown>> {
  await sdk.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: id,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: PRIMARY, secondaryKey: SECONDARY } },
    provisioningStatus: 'disabled',
    allocationPolicy: 'hashed',
    iotHubs: [hub1, hub2],
    reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
    capabilities: { iotEdge: true },
    initialTwin: { tags: { site: 'north', tier: 2 }, properties: { desired: { mode: 'eco', interval: 30 } } },
  } as unknown as SdkGroup);
  return readGroup(id);
}

function withoutAllocation(group: Record<string, unknown>): Record<string, unknown> {
  const {
    allocationPolicy: _p,
    customAllocationDefinition: _d,
    etag: _e,
    lastUpdatedDateTimeUtc: _u,
    ...rest
  } = group;
  return rest;
}

async function sdkStatus(promise: Promise<unknown>): Promise<number | undefined> {
  return promise.then(
    () => 200,
    (error: { response?: { statusCode: number } }) => error.response?.statusCode,
  );
}

describe('configure against the DPS emulator', () => {
  it('updates only the custom allocation of a group, keeps its keys, and honours etags', async () => {
    const before = await createRichGroup('cfg-update');

    const run = await configure([
      '--enrollment-group',
      'cfg-update',
      '--webhook-url',
      FUNCTION_URL,
      '--function-key',
      FUNCTION_KEY,
    ]);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      `enrollment group 'cfg-update': updated: apiVersion 2021-10-01, webhook ${FUNCTION_URL}?code=***\n`,
    );
    const after = await readGroup('cfg-update');
    expect(after.allocationPolicy).toBe('custom');
    expect(after.customAllocationDefinition).toEqual({ webhookUrl: KEYED_URL, apiVersion: '2021-10-01' });
    expect(withoutAllocation(after)).toEqual(withoutAllocation(before));
    expect(await groupKeys('cfg-update')).toEqual({ primaryKey: PRIMARY, secondaryKey: SECONDARY });
    expect(after.etag).not.toBe(before.etag);

    // A write with the etag from before configure ran is refused: the change went through If-Match/etag semantics.
    const stale = {
      ...(after as unknown as SdkGroup),
      etag: before.etag as string,
      allocationPolicy: 'hashed',
    } as SdkGroup;
    expect(await sdkStatus(sdk.createOrUpdateEnrollmentGroup(stale))).toBe(412);

    // A second run finds nothing to do and writes nothing.
    const again = await configure(['--enrollment-group', 'cfg-update', '--webhook-url', KEYED_URL]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^enrollment group 'cfg-update': unchanged, already apiVersion 2021-10-01, webhook https:.*\?code=\*\*\*\n$/,
    );
    expect((await readGroup('cfg-update')).etag).toBe(after.etag);
  });

  it('dry run: prints the change with the key masked, no secret at all, and writes nothing', async () => {
    const oldKey = 'b2xkLWtleS1zZXQtYnktdGhlLXBvcnRhbA==';
    await createRichGroup('cfg-dry');
    const current = (await sdk.getEnrollmentGroup('cfg-dry')).responseBody;
    await sdk.createOrUpdateEnrollmentGroup({
      ...current,
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: PRIMARY, secondaryKey: SECONDARY } },
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl: `${FUNCTION_URL}?code=${oldKey}`, apiVersion: '2019-03-31' },
    } as unknown as SdkGroup);
    const before = await readGroup('cfg-dry');

    const text = await configure([
      '--enrollment-group',
      'cfg-dry',
      '--webhook-url',
      FUNCTION_URL,
      '--function-key',
      FUNCTION_KEY,
      '--dry-run',
    ]);
    const json = await configure([
      '--enrollment-group',
      'cfg-dry',
      '--webhook-url',
      KEYED_URL,
      '--dry-run',
      '--json',
    ]);

    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      [
        "enrollment group 'cfg-dry': would update",
        `  customAllocationDefinition.webhookUrl: ${FUNCTION_URL}?code=*** -> ${FUNCTION_URL}?code=*** (the function key differs)`,
        '  customAllocationDefinition.apiVersion: 2019-03-31 -> 2021-10-01',
        'dry run: nothing was written',
        '',
      ].join('\n'),
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      dryRun: true,
      webhookUrl: `${FUNCTION_URL}?code=***`,
      results: [{ kind: 'enrollmentGroup', id: 'cfg-dry', status: 'updated', written: false }],
    });
    for (const run of [text, json]) {
      const printed = run.stdout + run.stderr;
      for (const secret of [FUNCTION_KEY, encodeURIComponent(FUNCTION_KEY), oldKey, PRIMARY, SECONDARY]) {
        expect(printed).not.toContain(secret);
      }
    }
    expect(await readGroup('cfg-dry')).toEqual(before);
  });

  it('dry run needs no write rights: it works with the read-only policy', async () => {
    await createRichGroup('cfg-dry-ro');
    const run = await runCli([
      ...dps(emulator.readOnlyConnectionString),
      '--enrollment-group',
      'cfg-dry-ro',
      '--webhook-url',
      KEYED_URL,
      '--dry-run',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('allocationPolicy: hashed -> custom');
  });

  it('creates a missing group with --create, its hubs, edge and reprovision policy; DPS generates the keys', async () => {
    const run = await configure([
      '--enrollment-groups',
      'cfg-new-a,cfg-new-b',
      '--webhook-url',
      KEYED_URL,
      '--create',
      '--linked-hubs',
      hub2,
      '--iot-edge',
      '--reprovision-policy',
      'reset',
    ]);

    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      `enrollment group 'cfg-new-a': created: apiVersion 2021-10-01, webhook ${FUNCTION_URL}?code=***`,
      `enrollment group 'cfg-new-b': created: apiVersion 2021-10-01, webhook ${FUNCTION_URL}?code=***`,
    ]);
    for (const id of ['cfg-new-a', 'cfg-new-b']) {
      expect(await readGroup(id)).toMatchObject({
        enrollmentGroupId: id,
        attestation: { type: 'symmetricKey' },
        allocationPolicy: 'custom',
        customAllocationDefinition: { webhookUrl: KEYED_URL, apiVersion: '2021-10-01' },
        iotHubs: [hub2],
        capabilities: { iotEdge: true },
        reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
        provisioningStatus: 'enabled',
      });
      const keys = (await groupKeys(id)) as { primaryKey: string; secondaryKey: string };
      expect(Buffer.from(keys.primaryKey, 'base64')).toHaveLength(64);
    }
  });

  it('creates with the keys given, never printing them', async () => {
    const run = await configure([
      '--enrollment-group',
      'cfg-new-keys',
      '--webhook-url',
      KEYED_URL,
      '--create',
      '--primary-key',
      PRIMARY,
      '--secondary-key',
      SECONDARY,
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(await groupKeys('cfg-new-keys')).toEqual({ primaryKey: PRIMARY, secondaryKey: SECONDARY });
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({
      status: 'created',
      written: true,
      etag: expect.any(String),
    });
    for (const secret of [PRIMARY, SECONDARY, FUNCTION_KEY])
      expect(run.stdout + run.stderr).not.toContain(secret);
  });

  it('refuses a missing group without --create, and still configures the others', async () => {
    await createRichGroup('cfg-present');
    const run = await configure([
      '--enrollment-groups',
      'cfg-absent,cfg-present',
      '--webhook-url',
      KEYED_URL,
    ]);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "enrollment group 'cfg-absent': failed: enrollment group 'cfg-absent' does not exist; add --create to create it " +
        '(with --linked-hubs, --iot-edge, --reprovision-policy as needed)\n',
    );
    expect(run.stdout).toContain("enrollment group 'cfg-present': updated");
    expect(await sdkStatus(sdk.getEnrollmentGroup('cfg-absent'))).toBe(404);
  });

  it('updates an individual enrollment and keeps its fields and keys', async () => {
    await sdk.createOrUpdateIndividualEnrollment({
      registrationId: 'cfg-device-1',
      deviceId: 'device-one',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: PRIMARY, secondaryKey: SECONDARY } },
      provisioningStatus: 'enabled',
      iotHubs: [hub1],
      allocationPolicy: 'static',
      capabilities: { iotEdge: false },
      initialTwin: { tags: { room: 7 }, properties: { desired: {} } },
    } as unknown as SdkIndividual);
    const before = (await sdk.getIndividualEnrollment('cfg-device-1')).responseBody as unknown as Record<
      string,
      unknown
    >;

    const run = await configure(['--individual-enrollment', 'cfg-device-1', '--webhook-url', KEYED_URL]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain("individual enrollment 'cfg-device-1': updated");
    const after = (await sdk.getIndividualEnrollment('cfg-device-1')).responseBody as unknown as Record<
      string,
      unknown
    >;
    expect(after).toMatchObject({
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl: KEYED_URL },
    });
    expect(withoutAllocation(after)).toEqual(withoutAllocation(before));
    const keys = (await sdk.getIndividualEnrollmentAttestationMechanism('cfg-device-1')).responseBody
      .symmetricKey;
    expect(keys).toEqual({ primaryKey: PRIMARY, secondaryKey: SECONDARY });
  });

  it('refuses a webhook URL without a key (400209), unless --anonymous', async () => {
    const before = await createRichGroup('cfg-anon');

    const refused = await configure(['--enrollment-group', 'cfg-anon', '--webhook-url', FUNCTION_URL]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^configure: the webhook URL has no function key .*400209.*--anonymous.*\(see --help\)\n$/,
    );
    expect((await readGroup('cfg-anon')).etag).toBe(before.etag);

    const anonymous = await configure([
      '--enrollment-group',
      'cfg-anon',
      '--webhook-url',
      FUNCTION_URL,
      '--anonymous',
    ]);
    expect(anonymous.code).toBe(0);
    expect((await readGroup('cfg-anon')).customAllocationDefinition).toEqual({
      webhookUrl: FUNCTION_URL,
      apiVersion: '2021-10-01',
    });
  });

  it('re-reads and redoes the change when the group is changed between its GET and PUT (412)', async () => {
    await createRichGroup('cfg-race');
    let writes = 0;
    const run = await configure(['--enrollment-group', 'cfg-race', '--webhook-url', KEYED_URL], {
      deps: {
        beforeWrite: async (_plan, attempt) => {
          writes++;
          if (attempt > 1) return;
          // Someone else changes the group after configure read it.
          const current = (await sdk.getEnrollmentGroup('cfg-race')).responseBody;
          await sdk.createOrUpdateEnrollmentGroup({
            ...current,
            attestation: {
              type: 'symmetricKey',
              symmetricKey: { primaryKey: PRIMARY, secondaryKey: SECONDARY },
            },
            initialTwin: { tags: { site: 'south' }, properties: { desired: {} } },
          } as unknown as SdkGroup);
        },
      },
    });

    expect(run.code).toBe(0);
    expect(writes).toBe(2);
    expect(run.stdout).toContain(
      "enrollment group 'cfg-race': updated (re-read after 1 change(s) by someone else): ",
    );
    expect(run.stderr).toContain("note: enrollment group 'cfg-race' changed since it was read (412)");
    const after = await readGroup('cfg-race');
    expect(after).toMatchObject({
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl: KEYED_URL },
      initialTwin: { tags: { site: 'south' } }, // the other writer's change survives
    });
    expect(await groupKeys('cfg-race')).toEqual({ primaryKey: PRIMARY, secondaryKey: SECONDARY });
  });

  it('gives up clearly when the group keeps changing', async () => {
    await createRichGroup('cfg-busy');
    let tick = 0;
    const run = await configure(['--enrollment-group', 'cfg-busy', '--webhook-url', KEYED_URL], {
      deps: {
        beforeWrite: async () => {
          const current = (await sdk.getEnrollmentGroup('cfg-busy')).responseBody;
          await sdk.createOrUpdateEnrollmentGroup({
            ...current,
            attestation: {
              type: 'symmetricKey',
              symmetricKey: { primaryKey: PRIMARY, secondaryKey: SECONDARY },
            },
            initialTwin: { tags: { tick: ++tick }, properties: { desired: {} } },
          } as unknown as SdkGroup);
        },
      },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /cfg-busy'.*kept changing.*412 Precondition Failed 4 times.*run configure again/,
    );
    expect((await readGroup('cfg-busy')).allocationPolicy).toBe('hashed');
  });

  it('looks the function key up through ARM (after a 403 while the role propagates) for the azd hook', async () => {
    await createRichGroup('cfg-arm');
    const arm = await startFakeArm();
    const armKey = 'a2V5LWZyb20tYXJtLWxvb2t1cA==';
    arm.reply = (_request, index) =>
      index === 0
        ? { status: 403, body: { error: { code: 'AuthorizationFailed', message: 'role not there yet' } } }
        : { status: 200, body: { default: armKey } };
    try {
      const run = await configure(
        [
          '--enrollment-groups',
          'cfg-arm',
          '--webhook-url',
          FUNCTION_URL,
          '--function-app',
          FUNCTION_APP,
          '--resource-group',
          RESOURCE_GROUP,
          '--subscription',
          SUBSCRIPTION,
        ],
        {
          deps: {
            credential: fakeCredential(),
            armBaseUrl: arm.url,
            armRetryDelaysMs: [0],
            sleep: async () => undefined,
          },
        },
      );

      expect(run.code).toBe(0);
      expect(arm.requests.map((request) => request.path)).toEqual([FUNCTION_KEYS_PATH, FUNCTION_KEYS_PATH]);
      expect((await readGroup('cfg-arm')).customAllocationDefinition).toEqual({
        webhookUrl: `${FUNCTION_URL}?code=${encodeURIComponent(armKey)}`,
        apiVersion: '2021-10-01',
      });
      expect(run.stderr).toContain(
        `note: using the function key 'default' of function app '${FUNCTION_APP}'`,
      );
      expect(run.stdout + run.stderr).not.toContain(armKey);
      expect(run.stdout + run.stderr).not.toContain(encodeURIComponent(armKey));
    } finally {
      await arm.close();
    }
  });
});

// Custom allocation through a webhook server started by the test, driven by the official device SDK:
// the request DPS sends, payload round trip, initialTwin, re-registration and reprovision policies, and
// what each webhook answer turns into (400207 / 400208 / 400209, retries of >= 429).
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { registerWithSdk } from '../../../dev/dps-emulator/sdk-clients';
import type { TestWebhook } from './support/emulator';
import { HUB_A, HUB_B, HUB_C, startTestEmulator, startWebhook, testKey } from './support/emulator';

let emulator: DpsEmulator;
let webhook: TestWebhook;

beforeAll(async () => {
  webhook = await startWebhook();
  emulator = await startTestEmulator();
});

afterAll(async () => {
  await emulator.stop();
  await webhook.close();
});

beforeEach(() => {
  webhook.calls.length = 0;
  webhook.reply = (body) => ({ status: 200, body: { iotHubHostName: (body.linkedHubs as string[])[0] } });
});

function customGroup(id: string, extra: Record<string, unknown> = {}): void {
  emulator.createEnrollmentGroup({
    enrollmentGroupId: id,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey(id) } },
    allocationPolicy: 'custom',
    customAllocationDefinition: { webhookUrl: webhook.url, apiVersion: '2021-10-01' },
    ...extra,
  });
}

function register(groupId: string, registrationId: string, payload?: Record<string, unknown>) {
  return registerWithSdk(emulator, registrationId, emulator.deviceKey(registrationId, groupId), payload);
}

/** The registration state of a failed registration, from the SDK's DeviceRegistrationFailedError. */
async function failedState(groupId: string, registrationId: string) {
  const error = (await register(groupId, registrationId).then(
    () => {
      throw new Error('registration should have failed');
    },
    (e: unknown) => e,
  )) as {
    name: string;
    result: { status: string; registrationState: { errorCode: number; errorMessage: string } };
  };
  expect(error.name).toMatch(/RegistrationFailedError$/);
  expect(error.result.status).toBe('failed');
  return error.result.registrationState;
}

describe('custom allocation webhook', () => {
  it('posts the DPS request body and assigns the hub it returns, with payload and initial twin', async () => {
    customGroup('custom-group', { iotHubs: [HUB_B, HUB_C], initialTwin: { tags: { from: 'enrollment' } } });
    webhook.reply = (body) => ({
      status: 200,
      body: {
        iotHubHostName: HUB_C,
        initialTwin: { tags: { deviceType: 'toaster' }, properties: { desired: { state: 'ready' } } },
        payload: { echoed: (body.deviceRuntimeContext as { payload?: unknown }).payload },
      },
    });
    const state = await register('custom-group', 'custom-device-1', { modelId: 'dtmi:x;1' });
    expect(state).toMatchObject({
      status: 'assigned',
      assignedHub: HUB_C,
      deviceId: 'custom-device-1',
      substatus: 'initialAssignment',
      payload: { echoed: { modelId: 'dtmi:x;1' } },
    });

    expect(webhook.calls).toHaveLength(1);
    const call = webhook.calls[0]!;
    expect(call.url).toBe('/api/allocate?code=secret-function-key');
    const group = call.body.enrollmentGroup as Record<string, unknown>;
    expect(group).toMatchObject({
      enrollmentGroupId: 'custom-group',
      attestation: { type: 'symmetricKey' },
      allocationPolicy: 'custom',
      iotHubs: [HUB_B, HUB_C],
      provisioningStatus: 'enabled',
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
      customAllocationDefinition: { apiVersion: '2021-10-01' },
    });
    expect(Object.keys(group.attestation as object)).toEqual(['type']);
    expect((group.customAllocationDefinition as { webhookUrl: string }).webhookUrl).toMatch(
      /\/api\/allocate\?\*\*\*\*$/,
    );
    expect(group.etag).toEqual(expect.any(String));
    expect(JSON.stringify(call.body)).not.toContain('secret-function-key');
    expect(JSON.stringify(call.body)).not.toContain(testKey('custom-group'));
    expect(call.body.deviceRuntimeContext).toEqual({
      registrationId: 'custom-device-1',
      symmetricKey: {},
      payload: { modelId: 'dtmi:x;1' },
    });
    expect(call.body.linkedHubs).toEqual([HUB_B, HUB_C]);
    expect(call.body).not.toHaveProperty('individualEnrollment');

    // The twin from the webhook is what the hub would have received.
    expect(emulator.getRegistration('custom-device-1')?.initialTwin).toEqual({
      tags: { deviceType: 'toaster' },
      properties: { desired: { state: 'ready' } },
    });
    expect(emulator.recentWebhookCalls.at(-1)?.webhookUrl).not.toContain('secret-function-key');
  });

  it('sends every linked hub when the enrollment selects none, and the enrollment twin when the webhook has none', async () => {
    customGroup('custom-all-hubs', { initialTwin: { tags: { from: 'enrollment' } } });
    await register('custom-all-hubs', 'all-hubs-device');
    expect(webhook.calls[0]!.body.linkedHubs).toEqual([HUB_A, HUB_B, HUB_C]);
    expect(emulator.getRegistration('all-hubs-device')?.initialTwin).toEqual({
      tags: { from: 'enrollment' },
    });
  });

  it('passes currentIotHubHostName on re-registration and moves the device when the policy allows it', async () => {
    customGroup('custom-moving', {
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
    });
    webhook.reply = () => ({
      status: 200,
      body: { iotHubHostName: HUB_A, initialTwin: { tags: { round: 1 } } },
    });
    expect((await register('custom-moving', 'moving-device')).assignedHub).toBe(HUB_A);

    webhook.reply = (body) => {
      const context = body.deviceRuntimeContext as Record<string, unknown>;
      return {
        status: 200,
        body: {
          iotHubHostName: context.currentIotHubHostName === HUB_A ? HUB_B : HUB_A,
          initialTwin: { tags: { round: 2 } },
        },
      };
    };
    const moved = await register('custom-moving', 'moving-device');
    expect(moved).toMatchObject({ assignedHub: HUB_B, substatus: 'deviceDataReset' });
    expect(webhook.calls[1]!.body.deviceRuntimeContext).toMatchObject({
      registrationId: 'moving-device',
      currentIotHubHostName: HUB_A,
      currentDeviceId: 'moving-device',
    });
    expect(webhook.calls[1]!.body.linkedHubs).toEqual([HUB_A, HUB_B, HUB_C]);
    // Reset to initial config on a hub change: the webhook's twin applies again.
    expect(emulator.getRegistration('moving-device')?.initialTwin).toEqual({ tags: { round: 2 } });
  });

  it('keeps the device on its hub and sends only that hub when updateHubAssignment is false', async () => {
    customGroup('custom-sticky', {
      reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
    });
    webhook.reply = () => ({
      status: 200,
      body: { iotHubHostName: HUB_B, initialTwin: { tags: { round: 1 } } },
    });
    await register('custom-sticky', 'sticky-custom');

    webhook.reply = (body) => ({
      status: 200,
      body: { iotHubHostName: (body.linkedHubs as string[])[0], initialTwin: { tags: { round: 2 } } },
    });
    const again = await register('custom-sticky', 'sticky-custom');
    expect(again).toMatchObject({ assignedHub: HUB_B, substatus: 'initialAssignment' });
    expect(webhook.calls[1]!.body.linkedHubs).toEqual([HUB_B]);
    // No hub change: the initial twin is not applied again.
    expect(emulator.getRegistration('sticky-custom')?.initialTwin).toEqual({ tags: { round: 1 } });

    // A hub outside linkedHubs (here: any other hub) fails the registration.
    webhook.reply = () => ({ status: 200, body: { iotHubHostName: HUB_C } });
    const state = await failedState('custom-sticky', 'sticky-custom');
    expect(state.errorCode).toBe(400207);
  });

  it('maps a 400 answer to 400207 "Custom allocation failed with status code: 400"', async () => {
    customGroup('custom-400');
    webhook.reply = () => ({ status: 400, rawBody: 'unknown device' });
    const state = await failedState('custom-400', 'rejected-device');
    expect(state).toMatchObject({
      errorCode: 400207,
      errorMessage: 'Custom allocation failed with status code: 400',
    });
    expect(emulator.getRegistrationState('rejected-device')).toMatchObject({
      status: 'failed',
      errorCode: 400207,
    });
    expect(webhook.calls).toHaveLength(1);
  });

  it('maps a 401 answer to 400209', async () => {
    customGroup('custom-401');
    webhook.reply = () => ({ status: 401 });
    expect((await failedState('custom-401', 'unauthorized-device')).errorCode).toBe(400209);
  });

  it('maps a 200 without a hub to 400208', async () => {
    customGroup('custom-empty');
    webhook.reply = () => ({ status: 200, body: { iotHubHostName: '' } });
    expect((await failedState('custom-empty', 'no-hub-device')).errorCode).toBe(400208);
    webhook.reply = () => ({ status: 200, body: { iotHubHostName: null } });
    expect((await failedState('custom-empty', 'null-hub-device')).errorCode).toBe(400208);
  });

  it('fails with 400207 when the hub is not linked', async () => {
    customGroup('custom-unlinked', { iotHubs: [HUB_A] });
    webhook.reply = () => ({ status: 200, body: { iotHubHostName: 'elsewhere.azure-devices.net' } });
    const state = await failedState('custom-unlinked', 'unlinked-device');
    expect(state.errorCode).toBe(400207);
    expect(state.errorMessage).toContain('not in linkedHubs');
  });

  it('retries answers >= 429 and succeeds when the webhook recovers', async () => {
    customGroup('custom-retry');
    webhook.reply = (body, index) =>
      index < 2
        ? { status: index === 0 ? 500 : 429 }
        : { status: 200, body: { iotHubHostName: (body.linkedHubs as string[])[1] } };
    const state = await register('custom-retry', 'retried-device');
    expect(state.assignedHub).toBe(HUB_B);
    expect(webhook.calls).toHaveLength(3);
    expect(emulator.recentWebhookCalls.at(-1)?.attemptStatuses).toEqual([500, 429, 200]);
  });

  it('gives up after the configured retries with 400207', async () => {
    customGroup('custom-down');
    webhook.reply = () => ({ status: 503 });
    const state = await failedState('custom-down', 'down-device');
    expect(state).toMatchObject({
      errorCode: 400207,
      errorMessage: 'Custom allocation failed with status code: 503',
    });
    // First attempt + 3 retries (startTestEmulator's schedule).
    expect(webhook.calls).toHaveLength(4);
  });

  it('fails with 400207 when the webhook does not answer in time or is not JSON', async () => {
    const slow = await startTestEmulator({ webhookTimeoutMs: 50 });
    try {
      slow.createEnrollmentGroup({
        enrollmentGroupId: 'custom-slow',
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('slow') } },
        allocationPolicy: 'custom',
        customAllocationDefinition: { webhookUrl: webhook.url, apiVersion: '2021-10-01' },
      });
      webhook.reply = () => ({ status: 200, body: { iotHubHostName: HUB_A }, delayMs: 300 });
      const error = (await registerWithSdk(
        slow,
        'slow-device',
        slow.deviceKey('slow-device', 'custom-slow'),
      ).catch((e: unknown) => e)) as {
        result: { registrationState: { errorCode: number; errorMessage: string } };
      };
      expect(error.result.registrationState.errorCode).toBe(400207);
      expect(error.result.registrationState.errorMessage).toContain('did not answer within 50 ms');
    } finally {
      await slow.stop();
    }
    customGroup('custom-garbage');
    webhook.reply = () => ({ status: 200, rawBody: '<html>not json</html>' });
    expect((await failedState('custom-garbage', 'garbage-device')).errorCode).toBe(400207);
  });

  it('echoes an individual enrollment as individualEnrollment', async () => {
    const created = emulator.createIndividualEnrollment({
      registrationId: 'custom-individual',
      attestation: { type: 'symmetricKey' },
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl: webhook.url, apiVersion: '2021-10-01' },
    });
    const key = (created.attestation as { symmetricKey: { primaryKey: string } }).symmetricKey.primaryKey;
    const state = await registerWithSdk(emulator, 'custom-individual', key);
    expect(state.assignedHub).toBe(HUB_A);
    expect(webhook.calls[0]!.body.individualEnrollment).toMatchObject({
      registrationId: 'custom-individual',
      attestation: { type: 'symmetricKey' },
    });
    expect(webhook.calls[0]!.body).not.toHaveProperty('enrollmentGroup');
    expect(JSON.stringify(webhook.calls[0]!.body)).not.toContain(key);
  });
});

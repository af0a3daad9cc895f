// Custom allocation and the hubs: the initial twin a webhook returns is what DPS writes to the device in the hub the
// webhook chose (docs/dps-contract.md §1.3, §9.1).
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { registerWithSdk } from '../../../dev/dps-emulator/sdk-clients';
import { createSdkRegistry } from '../../../dev/iot-hub-emulator/sdk-clients';
import type { TestWebhook } from './support/emulator';
import { HUB_A, HUB_C, startTestEmulator, startWebhook, testKey } from './support/emulator';

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

it("writes the webhook's initialTwin, not the enrollment's, to the device in the hub the webhook chose", async () => {
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'custom-hub-twin',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('custom-hub-twin') } },
    allocationPolicy: 'custom',
    customAllocationDefinition: { webhookUrl: webhook.url, apiVersion: '2021-10-01' },
    initialTwin: { tags: { from: 'enrollment' } },
  });
  webhook.reply = () => ({
    status: 200,
    body: {
      iotHubHostName: HUB_C,
      initialTwin: { tags: { deviceType: 'toaster' }, properties: { desired: { state: 'ready' } } },
    },
  });
  const key = emulator.deviceKey('custom-twin-device', 'custom-hub-twin');
  expect((await registerWithSdk(emulator, 'custom-twin-device', key)).assignedHub).toBe(HUB_C);

  const twin = (await createSdkRegistry(emulator, HUB_C).getTwin('custom-twin-device')).responseBody;
  expect(twin.tags).toEqual({ deviceType: 'toaster' });
  expect(twin.properties.desired).toMatchObject({ state: 'ready', $version: 2 });
  const device = (await createSdkRegistry(emulator, HUB_C).get('custom-twin-device')).responseBody;
  expect(device.authentication?.symmetricKey?.primaryKey).toBe(key);
  expect(emulator.hubs.registry(HUB_A).getDevice('custom-twin-device')).toBeUndefined();
});

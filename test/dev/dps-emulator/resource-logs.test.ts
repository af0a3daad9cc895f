// The emulator's DeviceOperations resource logs in Azurite's Blob storage (docs/dps-contract.md §4.4): one record
// per attestation attempt, over HTTPS and MQTT, refusals with their reason and never a key; records survive a
// storage outage and are written once storage is back.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../../dev/azurite';
import { FAST_TIMING, startDpsEmulator, type DpsEmulator } from '../../../dev/dps-emulator';
import {
  createSdkMqttDeviceClient,
  registerWithClient,
  registerWithSdk,
} from '../../../dev/dps-emulator/sdk-clients';

let dataDir: string;
let azurite: Azurite;
let emulator: DpsEmulator;
const logLines: string[] = [];
const GROUP_KEY = Buffer.alloc(32, 7).toString('base64');

interface LoggedRecord {
  time: string;
  resourceId: string;
  category: string;
  operationName: string;
  resultType: string;
  resultSignature: string;
  resultDescription: string;
  properties: { id: string; type: string; protocol: string };
}

async function records(): Promise<{ blob: string; record: LoggedRecord }[]> {
  await emulator.flushResourceLogs();
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
    emulator.resourceLogs!.container,
  );
  const found: { blob: string; record: LoggedRecord }[] = [];
  for await (const blob of container.listBlobsFlat()) {
    const text = (await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) {
      found.push({ blob: blob.name, record: JSON.parse(line) as LoggedRecord });
    }
  }
  return found;
}

const attemptsOf = async (registrationId: string) =>
  (await records()).filter(({ record }) => record.properties.id === registrationId);

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'resource-logs-'));
  azurite = await startAzurite({ blobPort: 0, dataDir });
  emulator = await startDpsEmulator({
    ...FAST_TIMING,
    resourceLogs: { connectionString: azurite.connectionString, name: 'contoso-dps' },
    log: (line) => logLines.push(line),
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'sensors',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: GROUP_KEY, secondaryKey: GROUP_KEY } },
    allocationPolicy: 'hashed',
  });
});

afterAll(async () => {
  await emulator?.stop();
  await azurite?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('DPS emulator resource logs', () => {
  it('records a successful attestation over HTTPS in the hour blob of the instance', async () => {
    await registerWithSdk(emulator, 'sensor-1', emulator.deviceKey('sensor-1', 'sensors'));
    const [attempt, ...more] = await attemptsOf('sensor-1');
    expect(more).toEqual([]);
    expect(emulator.resourceLogs).toEqual({
      container: 'insights-logs-deviceoperations',
      blobPrefix: `resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/DPS-EMULATOR/PROVIDERS/MICROSOFT.DEVICES/PROVISIONINGSERVICES/CONTOSO-DPS/`,
    });
    expect(attempt!.blob).toMatch(
      new RegExp(
        `^${emulator.resourceLogs!.blobPrefix}y=\\d{4}/m=\\d{2}/d=\\d{2}/h=\\d{2}/m=00/PT1H\\.json$`,
      ),
    );
    expect(attempt!.record).toMatchObject({
      category: 'DeviceOperations',
      operationName: 'AttestationAttempt',
      resultType: 'Success',
      properties: { id: 'sensor-1', type: 'Registration', protocol: 'Http' },
    });
  });

  it('records a refused MQTT CONNECT once, with the reason, and never the token or key', async () => {
    const wrongKey = Buffer.alloc(32, 9).toString('base64');
    const device = createSdkMqttDeviceClient(emulator, 'sensor-2', wrongKey);
    await expect(registerWithClient(device)).rejects.toThrow();
    const attempts = await attemptsOf('sensor-2');
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    for (const { record } of attempts) {
      expect(record).toMatchObject({
        resultType: 'Failure',
        resultSignature: '401',
        resultDescription: '401002: the SAS token does not authenticate the device',
        properties: { id: 'sensor-2', protocol: 'Mqtt' },
      });
    }
    const text = JSON.stringify(await records());
    expect(text).not.toContain(wrongKey);
    expect(text).not.toContain(GROUP_KEY);
    expect(text).not.toContain('SharedAccessSignature');
  });

  it('keeps records while storage is down and writes them once it is back', async () => {
    await azurite.interrupt();
    await registerWithSdk(emulator, 'sensor-3', emulator.deviceKey('sensor-3', 'sensors'));
    await emulator.flushResourceLogs();
    expect(logLines.join('\n')).toMatch(/resource logs: not written yet/);
    await azurite.restart();
    expect((await attemptsOf('sensor-3')).map(({ record }) => record.resultType)).toEqual(['Success']);
  });
});

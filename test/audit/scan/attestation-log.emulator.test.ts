// Devices DPS refuses at attestation, seen through DPS's DeviceOperations resource logs: the emulator archives
// them to Azurite's Blob storage as a diagnostic setting does, and the audit reads them (docs/dps-contract.md
// §4.4). Official device SDK over MQTT and HTTPS; in order: refused devices become problems, a rescan writes
// nothing, a later successful attestation resolves the problem, and a storage fault leaves the scan going.
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../../dev/azurite';
import { FAST_TIMING, startDpsEmulator, type DpsEmulator } from '../../../dev/dps-emulator';
import { createSdkX509DeviceClient, registerWithClient } from '../../../dev/dps-emulator/sdk-clients';
import { createRootAuthority, type CertificateAuthority } from '../../../dev/test-ca/authority';
import type { AttestationLogSource } from '../../../src/audit/scan/attestation-log-pass';
import { runScan } from '../../../src/audit/scan/scan';
import { ATTESTATION_PARTITION } from '../../../src/audit/rows/keys';
import type { AuditStore } from '../../../src/audit/store';
import type { DpsClient } from '../../../src/dps/client';
import { DeviceOperationsArchive } from '../../../src/dps/resource-logs/device-operations-archive';
import { entitiesOf, storeOn, testScanOptions } from '../support/environment';
import { DpsClient as Client } from '../../../src/dps/client';

let azurite: Azurite;
let emulator: DpsEmulator;
let client: DpsClient;
let store: AuditStore;
let enrolledCa: CertificateAuthority;
let unknownCa: CertificateAuthority;
const warnings: string[] = [];

function source(): AttestationLogSource {
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
    emulator.resourceLogs!.container,
  );
  return {
    archive: new DeviceOperationsArchive(container, emulator.resourceLogs!.blobPrefix),
    lookbackHours: 24,
  };
}

async function scanWith(attestationLog: AttestationLogSource) {
  await emulator.flushResourceLogs();
  return runScan(
    { dps: client, store, attestationLog },
    testScanOptions({ log: (level, message) => level === 'warn' && warnings.push(message) }),
  );
}

async function register(
  transport: 'mqtt' | 'http',
  registrationId: string,
  ca: CertificateAuthority,
): Promise<unknown> {
  const leaf = await ca.issueLeaf({ subject: `CN=${registrationId}` });
  const device = createSdkX509DeviceClient(emulator, transport, registrationId, {
    cert: leaf.chainPem,
    key: leaf.keyPem,
  });
  return registerWithClient(device);
}

async function attestationRows() {
  return (await entitiesOf(store, 'problems')).filter((row) => row.partitionKey === ATTESTATION_PARTITION);
}

beforeAll(async () => {
  azurite = await startAzurite({ blobPort: 0 });
  emulator = await startDpsEmulator({
    ...FAST_TIMING,
    resourceLogs: { connectionString: azurite.connectionString },
  });
  client = new Client({
    connectionString: emulator.serviceConnectionString,
    caCertificate: emulator.caCertificatePem,
    retry: { baseDelayMs: 1, maxDelayMs: 5, minThrottleDelayMs: 0, maxAttempts: 5 },
  });
  store = storeOn(azurite);
  const root = await createRootAuthority({ subject: 'CN=Enrolled Root, O=Contoso' });
  enrolledCa = await root.issueIntermediate({ subject: 'CN=Enrolled Intermediate, O=Contoso' });
  unknownCa = await createRootAuthority({ subject: 'CN=Unknown Root, O=Fabrikam' });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'meters',
    attestation: {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: enrolledCa.certPem } } },
    },
    allocationPolicy: 'hashed',
  });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await emulator?.stop();
  await azurite?.stop();
});

describe("the audit reads DPS's DeviceOperations logs", () => {
  it('records each device refused at attestation, over MQTT and HTTPS, and no device DPS took', async () => {
    await expect(register('mqtt', 'rogue-mqtt-1', unknownCa)).rejects.toThrow();
    await expect(register('http', 'rogue-http-1', unknownCa)).rejects.toThrow();
    await expect(register('mqtt', 'meter-1', enrolledCa)).resolves.toMatchObject({
      assignedHub: expect.any(String),
    });

    const run = await scanWith(source());
    expect(run.outcome).toBe('completed');
    const rows = await attestationRows();
    expect(rows.map((row) => row.registrationId).sort()).toEqual(['rogue-http-1', 'rogue-mqtt-1']);
    for (const row of rows) {
      expect(row).toMatchObject({
        enrollmentKind: 'none',
        enrollmentId: '',
        status: 'failed',
        errorCode: 401002,
        source: 'attestation-log',
        open: true,
      });
      expect(String(row.errorMessage)).toMatch(/no enrollment for the certificate/);
    }
    expect(rows.find((row) => row.registrationId === 'rogue-mqtt-1')?.errorExplanation).toMatch(
      /at attestation over Mqtt \(401, 401002: no enrollment for the certificate/,
    );
    expect(rows.find((row) => row.registrationId === 'rogue-http-1')?.errorExplanation).toMatch(/over Http/);
    const history = (await entitiesOf(store, 'history')).filter(
      (row) => row.partitionKey === ATTESTATION_PARTITION,
    );
    expect(history.map((row) => `${row.registrationId} ${row.fromStatus}>${row.toStatus}`).sort()).toEqual([
      'rogue-http-1 none>failed',
      'rogue-mqtt-1 none>failed',
    ]);
  });

  it('writes nothing more on a rescan, and goes on from where it stopped', async () => {
    const before = JSON.stringify(await entitiesOf(store, 'problems'));
    const run = await scanWith(source());
    expect(run).toMatchObject({ outcome: 'completed', problemsFound: 0, problemsResolved: 0 });
    expect(JSON.stringify(await entitiesOf(store, 'problems'))).toBe(before);
  });

  it('resolves a refused device once DPS attests it (its CA enrolled)', async () => {
    emulator.createEnrollmentGroup({
      enrollmentGroupId: 'fabrikam-meters',
      attestation: {
        type: 'x509',
        x509: { signingCertificates: { primary: { certificate: unknownCa.certPem } } },
      },
      allocationPolicy: 'hashed',
    });
    await expect(register('mqtt', 'rogue-mqtt-1', unknownCa)).resolves.toMatchObject({
      assignedHub: expect.any(String),
    });
    const run = await scanWith(source());
    expect(run).toMatchObject({ outcome: 'completed', problemsResolved: 1 });
    const rows = new Map((await attestationRows()).map((row) => [row.registrationId, row]));
    expect(rows.get('rogue-mqtt-1')).toMatchObject({ open: false, resolution: 'attested' });
    expect(rows.get('rogue-http-1')).toMatchObject({ open: true });
  });

  it('goes on scanning DPS when the logs cannot be read, and says so', async () => {
    const unreachable = BlobServiceClient.fromConnectionString(
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;',
      { retryOptions: { maxTries: 1 } },
    ).getContainerClient('insights-logs-deviceoperations');
    warnings.length = 0;
    const run = await scanWith({
      archive: new DeviceOperationsArchive(unreachable, undefined),
      lookbackHours: 24,
    });
    expect(run.outcome).toBe('completed');
    expect(warnings.join('\n')).toMatch(
      /DPS attestation logs not read this run; the next run reads them from the same place/,
    );
    expect(warnings.join('\n')).not.toContain('a2V5');
  });
});

// End to end for X.509 fleets: the official device SDK's MQTT, MQTT-over-WebSocket and HTTP transports with the
// X.509 security client register against the DPS emulator, which attests each certificate and calls the project's
// real `allocate` function (local Functions host) with the certificate in deviceRuntimeContext.x509; the shipped
// example policy picks the regional hub by the certificate's organisation and tags certificates due for rotation.
import path from 'node:path';
import type { DpsEmulator } from '../../dev/dps-emulator';
import type { SdkDeviceTransport } from '../../dev/dps-emulator/sdk-clients';
import { createSdkX509DeviceClient, registerWithClient } from '../../dev/dps-emulator/sdk-clients';
import type { FunctionsHost } from '../../dev/functions-host';
import { startFunctionsHost } from '../../dev/functions-host';
import type { CertificateAuthority } from '../../dev/test-ca/authority';
import { createRootAuthority, createSelfSignedDeviceCertificate } from '../../dev/test-ca/authority';
import { startTestEmulator } from '../dev/dps-emulator/support/emulator';

const EU_HUB = 'contoso-eu-hub-1.azure-devices.net';
const US_HUB = 'contoso-us-hub-1.azure-devices.net';
const OTHER_HUB = 'contoso-general-hub-1.azure-devices.net';
const FUNCTION_KEY = 'local-function-key-for-x509-tests';
const DAY_MS = 24 * 60 * 60 * 1000;

let host: FunctionsHost;
let emulator: DpsEmulator;
let intermediate: CertificateAuthority;
const saved = { policy: process.env.ALLOCATION_POLICY_PATH, decisions: process.env.DECISION_LOG_ENABLED };

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

beforeAll(async () => {
  process.env.ALLOCATION_POLICY_PATH = path.join(
    __dirname,
    '../../policies/examples/x509-organisation-regions.json',
  );
  process.env.DECISION_LOG_ENABLED = 'false';
  host = await startFunctionsHost({
    functionFiles: [require.resolve('../../src/functions/allocate')],
    port: 0,
    functionKey: FUNCTION_KEY,
    enableTimers: false,
    log: () => undefined,
  });
  emulator = await startTestEmulator({
    linkedHubs: [{ hostName: EU_HUB }, { hostName: US_HUB }, { hostName: OTHER_HUB }],
  });
  const root = await createRootAuthority({ subject: 'CN=Contoso Root, O=Contoso' });
  intermediate = await root.issueIntermediate({ subject: 'CN=Contoso Meters Intermediate, O=Contoso' });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'contoso-x509-meters',
    attestation: {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: intermediate.certPem } } },
    },
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: `${host.functionUrl('allocate')}?code=${FUNCTION_KEY}`,
      apiVersion: '2021-10-01',
    },
  });
});

afterAll(async () => {
  await emulator?.stop();
  await host?.stop();
  restore('ALLOCATION_POLICY_PATH', saved.policy);
  restore('DECISION_LOG_ENABLED', saved.decisions);
});

async function registerLeaf(
  transport: SdkDeviceTransport,
  registrationId: string,
  subject: string,
  validDays = 365,
) {
  const leaf = await intermediate.issueLeaf({ subject, validDays });
  const client = createSdkX509DeviceClient(emulator, transport, registrationId, {
    cert: leaf.chainPem,
    key: leaf.keyPem,
  });
  return registerWithClient(client);
}

const tagsOf = (registrationId: string) =>
  (emulator.getRegistration(registrationId)?.initialTwin as { tags?: Record<string, unknown> } | undefined)
    ?.tags;

describe('X.509 devices allocated by their certificate', () => {
  it('sends an O=Contoso-EU device (MQTT) to the EU hub, tagged with its expiry and issuer', async () => {
    const result = await registerLeaf('mqtt', 'eu-meter-1', 'CN=eu-meter-1, OU=Meters, O=Contoso-EU');
    expect(result).toMatchObject({ status: 'assigned', assignedHub: EU_HUB });
    expect(tagsOf('eu-meter-1')).toMatchObject({
      region: 'eu',
      certificate: { rotationDue: false, issuer: 'Contoso Meters Intermediate' },
    });
    const notAfter = (tagsOf('eu-meter-1')?.certificate as { notAfter: string }).notAfter;
    expect(Date.parse(notAfter) - Date.now()).toBeGreaterThan(300 * DAY_MS);
  });

  it('sends an O=Contoso-US device (MQTT over WebSocket) to the US hub', async () => {
    const result = await registerLeaf('mqttWs', 'us-meter-1', 'CN=us-meter-1, OU=Meters, O=Contoso-US');
    expect(result).toMatchObject({ status: 'assigned', assignedHub: US_HUB });
    expect(tagsOf('us-meter-1')).toMatchObject({ region: 'us', certificate: { rotationDue: false } });
  });

  it('tags a certificate that expires within 30 days for rotation (HTTPS)', async () => {
    const result = await registerLeaf('http', 'eu-meter-2', 'CN=eu-meter-2, O=Contoso-EU', 20);
    expect(result).toMatchObject({ status: 'assigned', assignedHub: EU_HUB });
    expect(tagsOf('eu-meter-2')).toMatchObject({ region: 'eu', certificate: { rotationDue: true } });
  });

  it('gives a device of another organisation the fallback, and an individual enrollment goes through allocate too', async () => {
    const result = await registerLeaf('mqtt', 'fabrikam-meter-1', 'CN=fabrikam-meter-1, O=Fabrikam');
    expect(result.status).toBe('assigned');
    expect(tagsOf('fabrikam-meter-1')).toEqual({ region: 'unassigned' });

    const device = await createSelfSignedDeviceCertificate({ subject: 'CN=us-gateway-1, O=Contoso-US' });
    emulator.createIndividualEnrollment({
      registrationId: 'us-gateway-1',
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: device.certPem } } },
      },
      allocationPolicy: 'custom',
      customAllocationDefinition: {
        webhookUrl: `${host.functionUrl('allocate')}?code=${FUNCTION_KEY}`,
        apiVersion: '2021-10-01',
      },
    });
    const client = createSdkX509DeviceClient(emulator, 'mqtt', 'us-gateway-1', {
      cert: device.certPem,
      key: device.keyPem,
    });
    expect(await registerWithClient(client)).toMatchObject({ status: 'assigned', assignedHub: US_HUB });
  });
});

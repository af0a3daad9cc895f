// X.509 attestation (docs/dps-contract.md §4.2) with the official clients, unchanged but for the CA and
// host/port: the X.509 security client over HTTPS, MQTT and MQTT over WebSocket, for individual enrollments
// (by thumbprint) and groups (signing certificate: intermediate or root; a verified CA by reference), and the
// refusals: expired, not yet valid, unknown CA, CN mismatch. Enrollment certificates are parsed when stored.
import { X509Certificate } from 'node:crypto';
import type { RegistrationResult } from 'azure-iot-provisioning-device';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import type { SdkDeviceTransport } from '../../../dev/dps-emulator/sdk-clients';
import { createSdkX509DeviceClient, registerWithClient } from '../../../dev/dps-emulator/sdk-clients';
import { certificateInfoOf } from '../../../dev/dps-emulator/x509-info';
import type { CertificateAuthority, IssuedCertificate } from '../../../dev/test-ca/authority';
import { createRootAuthority, createSelfSignedDeviceCertificate } from '../../../dev/test-ca/authority';
import type { TestWebhook } from './support/emulator';
import {
  emulatorDispatcher,
  HUB_A,
  HUB_B,
  HUB_C,
  ownerAuthorization,
  rawCall,
  startTestEmulator,
  startWebhook,
} from './support/emulator';

const DAY_MS = 24 * 60 * 60 * 1000;
let emulator: DpsEmulator;
let webhook: TestWebhook;
const logLines: string[] = [];
let root: CertificateAuthority;
let intermediate: CertificateAuthority;
let otherRoot: CertificateAuthority;
let otherIntermediate: CertificateAuthority;
let verifiedRoot: CertificateAuthority;
let individualPrimary: IssuedCertificate;
let individualSecondary: IssuedCertificate;

beforeAll(async () => {
  root = await createRootAuthority({ subject: 'CN=Contoso Test Root, O=Contoso' });
  intermediate = await root.issueIntermediate({ subject: 'CN=Contoso Test Intermediate, O=Contoso' });
  otherRoot = await createRootAuthority({ subject: 'CN=Fabrikam Test Root, O=Fabrikam' });
  otherIntermediate = await otherRoot.issueIntermediate({ subject: 'CN=Fabrikam Line 4, O=Fabrikam' });
  verifiedRoot = await createRootAuthority({ subject: 'CN=Verified Test Root, O=Northwind' });
  individualPrimary = await createSelfSignedDeviceCertificate({ subject: 'CN=x509-individual-1' });
  individualSecondary = await createSelfSignedDeviceCertificate({ subject: 'CN=x509-individual-1' });

  emulator = await startTestEmulator({
    log: (line) => logLines.push(line),
    verifiedCertificates: { 'northwind-root': verifiedRoot.certPem },
  });
  webhook = await startWebhook();
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'contoso-intermediate-group',
    attestation: {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: intermediate.certPem } } },
    },
    allocationPolicy: 'static',
    iotHubs: [HUB_B],
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'fabrikam-root-group',
    attestation: {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: otherRoot.certPem } } },
    },
    allocationPolicy: 'custom',
    customAllocationDefinition: { webhookUrl: webhook.url, apiVersion: '2021-10-01' },
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'northwind-ca-group',
    attestation: { type: 'x509', x509: { caReferences: { primary: 'northwind-root' } } },
    allocationPolicy: 'static',
    iotHubs: [HUB_C],
  });
  emulator.createIndividualEnrollment({
    registrationId: 'x509-individual-1',
    attestation: {
      type: 'x509',
      x509: {
        clientCertificates: {
          primary: { certificate: individualPrimary.certPem },
          secondary: { certificate: individualSecondary.certPem },
        },
      },
    },
    allocationPolicy: 'static',
    iotHubs: [HUB_A],
  });
});

afterAll(async () => {
  await emulator.stop();
  await webhook.close();
});

beforeEach(() => {
  logLines.length = 0;
  webhook.calls.length = 0;
});

function register(
  transport: SdkDeviceTransport,
  registrationId: string,
  device: IssuedCertificate,
  sendChain = false,
): Promise<RegistrationResult> {
  const client = createSdkX509DeviceClient(emulator, transport, registrationId, {
    cert: sendChain ? device.chainPem : device.certPem,
    key: device.keyPem,
  });
  return registerWithClient(client);
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('the registration should have been refused');
    },
    (error: unknown) => error as Error,
  );
}

const infoOf = (pem: string) => certificateInfoOf(new X509Certificate(pem));

describe.each<SdkDeviceTransport>(['http', 'mqtt', 'mqttWs'])('X.509 devices over %s', (transport) => {
  it('provisions a device whose certificate the group signing certificate (intermediate) issued', async () => {
    const id = `contoso-${transport.toLowerCase()}-1`;
    const device = await intermediate.issueLeaf({ subject: `CN=${id}, OU=Line 1, O=Contoso` });
    const result = await register(transport, id, device);
    expect(result).toMatchObject({
      registrationId: id,
      status: 'assigned',
      assignedHub: HUB_B,
      deviceId: id,
    });
    expect((result as unknown as { x509: unknown }).x509).toEqual({
      certificateInfo: infoOf(device.certPem),
      enrollmentGroupId: 'contoso-intermediate-group',
      signingCertificateInfo: infoOf(intermediate.certPem),
    });
    expect(emulator.getRegistration(id)?.enrollmentGroupId).toBe('contoso-intermediate-group');
  });

  it('provisions an individual enrollment by its secondary certificate', async () => {
    const result = await register(transport, 'x509-individual-1', individualSecondary);
    expect(result).toMatchObject({ status: 'assigned', assignedHub: HUB_A });
    expect((result as unknown as { x509: unknown }).x509).toEqual({
      certificateInfo: infoOf(individualSecondary.certPem),
    });
  });

  it('refuses an expired certificate with 401 and says why in the log', async () => {
    const id = `contoso-expired-${transport.toLowerCase()}`;
    const device = await intermediate.issueLeaf({
      subject: `CN=${id}`,
      notBefore: new Date(Date.now() - 400 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    const error = await refusal(register(transport, id, device));
    expect(error.message).toMatch(
      transport === 'http' ? /401|Unauthorized/i : /not authorized|unauthorized/i,
    );
    expect(logLines.join('\n')).toMatch(
      new RegExp(`X.509 device '${id}' refused: the device certificate expired at`),
    );
    expect(emulator.getRegistration(id)).toBeUndefined();
  });
});

describe('X.509 chains and references', () => {
  it('follows the chain the device sends (leaf + intermediate) to a root signing certificate, and the webhook sees the certificate', async () => {
    const device = await otherIntermediate.issueLeaf({ subject: 'CN=fabrikam-7, OU=Ovens, O=Fabrikam' });
    webhook.reply = () => ({ status: 200, body: { iotHubHostName: HUB_C } });
    const result = await register('mqtt', 'fabrikam-7', device, true);
    expect(result).toMatchObject({ status: 'assigned', assignedHub: HUB_C });
    const [call] = webhook.calls;
    expect(call?.body.enrollmentGroup).toMatchObject({
      enrollmentGroupId: 'fabrikam-root-group',
      attestation: { type: 'x509' },
    });
    expect(call?.body.deviceRuntimeContext).toEqual({
      registrationId: 'fabrikam-7',
      x509: {
        certificateInfo: infoOf(device.certPem),
        enrollmentGroupId: 'fabrikam-root-group',
        signingCertificateInfo: infoOf(otherRoot.certPem),
      },
    });
    expect(infoOf(device.certPem).subjectName).toBe('CN=fabrikam-7, OU=Ovens, O=Fabrikam');
  });

  it('refuses the same device when it does not send the intermediate: nothing links it to the root', async () => {
    const device = await otherIntermediate.issueLeaf({ subject: 'CN=fabrikam-8' });
    await refusal(register('http', 'fabrikam-8', device, false));
    expect(logLines.join('\n')).toMatch(/'fabrikam-8' refused: no enrollment for the certificate/);
  });

  it('accepts a device under a verified CA that a group names in caReferences', async () => {
    const device = await verifiedRoot.issueLeaf({ subject: 'CN=northwind-1' });
    const result = await register('http', 'northwind-1', device);
    expect(result).toMatchObject({ status: 'assigned', assignedHub: HUB_C });
  });

  it('refuses a certificate from an unknown CA, one not yet valid, and a CN that is not the registration id', async () => {
    const stranger = await (
      await createRootAuthority({ subject: 'CN=Unknown Root' })
    ).issueLeaf({
      subject: 'CN=stranger-1',
    });
    await refusal(register('mqtt', 'stranger-1', stranger));
    const early = await intermediate.issueLeaf({
      subject: 'CN=contoso-early',
      notBefore: new Date(Date.now() + 10 * DAY_MS),
      validDays: 30,
    });
    await refusal(register('http', 'contoso-early', early));
    const mismatched = await intermediate.issueLeaf({ subject: 'CN=contoso-real-name' });
    await refusal(register('mqtt', 'contoso-claimed-name', mismatched));
    const log = logLines.join('\n');
    expect(log).toMatch(
      /'stranger-1' refused: no enrollment for the certificate: .*issuer \(CN=Unknown Root\)/,
    );
    expect(log).toMatch(/'contoso-early' refused: the device certificate is not valid before/);
    expect(log).toMatch(
      /'contoso-claimed-name' refused: the certificate's subject CN 'contoso-real-name' is not the registration id/,
    );
    expect(log).toMatch(/CONNACK 5/);
    expect(log).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  it("refuses a certificate the individual enrollment does not hold, though a group's CA issued it", async () => {
    const impostor = await intermediate.issueLeaf({ subject: 'CN=x509-individual-1' });
    await refusal(register('http', 'x509-individual-1', impostor));
    expect(logLines.join('\n')).toMatch(/not the individual enrollment's primary or secondary certificate/);
  });
});

describe('enrollment certificates through the service API', () => {
  const dispatcher = () => emulatorDispatcher(emulator);
  const put = (path: string, body: unknown) =>
    rawCall(emulator, dispatcher(), 'PUT', `${path}?api-version=2021-10-01`, {
      headers: { authorization: ownerAuthorization(emulator), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const get = (path: string) =>
    rawCall(emulator, dispatcher(), 'GET', `${path}?api-version=2021-10-01`, {
      headers: { authorization: ownerAuthorization(emulator) },
    });

  it('fills info with the eight X509CertificateInfo fields and returns no PEM', async () => {
    const answer = await get('/enrollmentGroups/contoso-intermediate-group');
    expect(answer.status).toBe(200);
    const primary = (answer.json as { attestation: { x509: { signingCertificates: { primary: unknown } } } })
      .attestation.x509.signingCertificates.primary;
    expect(primary).toEqual({ certificate: null, info: infoOf(intermediate.certPem) });
    const info = infoOf(intermediate.certPem);
    expect(Object.keys(info).sort()).toEqual([
      'issuerName',
      'notAfterUtc',
      'notBeforeUtc',
      'serialNumber',
      'sha1Thumbprint',
      'sha256Thumbprint',
      'subjectName',
      'version',
    ]);
    expect(info.sha1Thumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(info.subjectName).toBe('CN=Contoso Test Intermediate, O=Contoso');
    expect(info.issuerName).toBe('CN=Contoso Test Root, O=Contoso');
  });

  it('refuses a certificate that does not parse with a 400 that names it', async () => {
    const answer = await put('/enrollmentGroups/broken-group', {
      enrollmentGroupId: 'broken-group',
      attestation: {
        type: 'x509',
        x509: { signingCertificates: { primary: { certificate: 'not-a-certificate' } } },
      },
    });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain(
      'attestation.x509.signingCertificates.primary.certificate is not an X.509 certificate in PEM or base64 DER form',
    );
    const individual = await put('/enrollments/broken-device', {
      registrationId: 'broken-device',
      attestation: {
        type: 'x509',
        x509: {
          clientCertificates: {
            primary: { certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
          },
        },
      },
    });
    expect(individual.status).toBe(400);
    expect(individual.text).toContain('clientCertificates.primary.certificate is not an X.509 certificate');
  });

  it('accepts base64 DER, and keeps the stored certificate when a client writes back what it read', async () => {
    const leafCa = await root.issueIntermediate({ subject: 'CN=Round Trip Intermediate' });
    const der = new X509Certificate(leafCa.certPem).raw.toString('base64');
    const created = await put('/enrollmentGroups/round-trip', {
      enrollmentGroupId: 'round-trip',
      attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: der } } } },
      allocationPolicy: 'static',
      iotHubs: [HUB_A],
    });
    expect(created.status).toBe(200);
    const read = (await get('/enrollmentGroups/round-trip')).json as Record<string, unknown>;
    const rewritten = await put('/enrollmentGroups/round-trip', { ...read, iotHubs: [HUB_B] });
    expect(rewritten.status).toBe(200);
    const device = await leafCa.issueLeaf({ subject: 'CN=round-trip-1' });
    expect(await register('http', 'round-trip-1', device)).toMatchObject({
      status: 'assigned',
      assignedHub: HUB_B,
    });
  });

  it('refuses a group with client certificates, and an individual enrollment without them', async () => {
    const group = await put('/enrollmentGroups/wrong-shape', {
      enrollmentGroupId: 'wrong-shape',
      attestation: {
        type: 'x509',
        x509: { clientCertificates: { primary: { certificate: individualPrimary.certPem } } },
      },
    });
    expect(group.status).toBe(400);
    expect(group.text).toContain('a group takes signingCertificates or caReferences');
    const individual = await put('/enrollments/no-certs', {
      registrationId: 'no-certs',
      attestation: {
        type: 'x509',
        x509: { signingCertificates: { primary: { certificate: intermediate.certPem } } },
      },
    });
    expect(individual.status).toBe(400);
    expect(individual.text).toContain('clientCertificates is required');
  });
});

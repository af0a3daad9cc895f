// The X.509 part of the demo: the local test CA, the X.509 enrollment group whose signing certificate is its
// intermediate, the individual enrollment of the expired device, fresh device certificates (written to the data
// folder beside the CA), and registrations through the official MQTT transports and X.509 security client.
import path from 'node:path';
import type { DpsEmulator } from '../dps-emulator';
import { createSdkX509DeviceClient, registerWithClient } from '../dps-emulator/sdk-clients';
import type { IssuedCertificate } from '../test-ca/authority';
import { createRootAuthority } from '../test-ca/authority';
import type { DemoCa } from './demo-ca';
import { writeIssued } from './demo-ca';
import type { X509DemoDevice } from './x509-demo-fleet';
import { EU_HUB, US_HUB, X509_DEMO_DEVICES, X509_DEMO_GROUP_ID } from './x509-demo-fleet';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Creates the X.509 group, or replaces it when its signing certificate is not the CA's intermediate any more. */
export function ensureX509Group(emulator: DpsEmulator, ca: DemoCa): 'created' | 'kept' {
  const existing =
    emulator.store.getGroup(X509_DEMO_GROUP_ID)?.value.attestation.x509?.signingCertificates?.primary;
  if (existing?.certificate === ca.intermediate.certPem) return 'kept';
  emulator.createEnrollmentGroup({
    enrollmentGroupId: X509_DEMO_GROUP_ID,
    attestation: {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: ca.intermediate.certPem } } },
    },
    iotHubs: [EU_HUB, US_HUB],
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
  });
  return 'created';
}

/** The device certificates of this start, written under `<ca dir>/devices/`. */
export async function issueDemoDeviceCertificates(ca: DemoCa): Promise<Map<string, IssuedCertificate>> {
  const unknownCa = await createRootAuthority({ subject: 'CN=Unknown Test CA, O=Not enrolled anywhere' });
  const issued = new Map<string, IssuedCertificate>();
  const now = Date.now();
  for (const device of X509_DEMO_DEVICES) {
    const signer = device.issuer === 'unknown-ca' ? unknownCa : ca.intermediate;
    const validity = device.validity
      ? {
          notBefore: new Date(now + device.validity.fromDays * DAY_MS),
          notAfter: new Date(now + device.validity.toDays * DAY_MS),
        }
      : {};
    const certificate = await signer.issueLeaf({ subject: device.subject, ...validity });
    await writeIssued(path.join(ca.dir, 'devices'), device.registrationId, certificate);
    issued.set(device.registrationId, certificate);
  }
  return issued;
}

/** Individual enrollments (the expired device's): its own certificate, allocated by the webhook. */
export function ensureIndividualEnrollments(
  emulator: DpsEmulator,
  certificates: ReadonlyMap<string, IssuedCertificate>,
  webhookUrl: string,
): void {
  for (const device of X509_DEMO_DEVICES.filter((candidate) => candidate.individual)) {
    emulator.createIndividualEnrollment({
      registrationId: device.registrationId,
      attestation: {
        type: 'x509',
        x509: {
          clientCertificates: { primary: { certificate: certificates.get(device.registrationId)!.certPem } },
        },
      },
      allocationPolicy: 'custom',
      customAllocationDefinition: { webhookUrl, apiVersion: '2021-10-01' },
      iotHubs: [EU_HUB, US_HUB],
    });
  }
}

export interface X509DeviceOutcome {
  device: X509DemoDevice;
  status: string;
  assignedHub?: string;
  errorCode?: number;
  errorMessage?: string;
}

interface SdkFailure {
  message?: string;
  result?: { registrationState?: { status?: string; errorCode?: number; errorMessage?: string } };
}

/** Registers one device over its transport, sending its certificate and the intermediate after it. */
export async function registerX509Device(
  emulator: DpsEmulator,
  device: X509DemoDevice,
  certificate: IssuedCertificate,
): Promise<X509DeviceOutcome> {
  const client = createSdkX509DeviceClient(emulator, device.transport, device.registrationId, {
    cert: certificate.chainPem,
    key: certificate.keyPem,
  });
  try {
    const result = await registerWithClient(client);
    return { device, status: result.status, assignedHub: result.assignedHub };
  } catch (error) {
    const state = (error as SdkFailure).result?.registrationState;
    if (state?.status)
      return { device, status: state.status, errorCode: state.errorCode, errorMessage: state.errorMessage };
    return { device, status: 'refused', errorMessage: (error as SdkFailure).message?.split('\n')[0] };
  }
}

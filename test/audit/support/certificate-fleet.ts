// X.509 enrollments for the audit's certificate tests against the DPS emulator, with certificates from the test CA
// (dev/test-ca): groups whose signing certificate expired, is mid-rollover, expires soon or is valid; individual
// enrollments (one device each) whose certificate expired, is not valid yet, expired on an assigned device, is
// mid-rollover or is valid. The emulator fills `info` when an enrollment is written. Devices register through the
// official X.509 client, so a refusal is the emulator's own.
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { createSdkX509DeviceClient, registerWithClient } from '../../../dev/dps-emulator/sdk-clients';
import {
  createRootAuthority,
  createSelfSignedDeviceCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../../dev/test-ca/authority';

export const EXPECTED_URL = 'https://audit-app.example.net/api/allocate';
export const FUNCTION_KEY = 'CertificateFleetFunctionKey0123456789==';

const DAY_MS = 86_400_000;
/** In the past whenever the tests run; whole seconds, as certificates hold them. */
export const EXPIRED_AT = '2026-01-01T00:00:00Z';
const EXPIRED = { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date(EXPIRED_AT) };

/** `days` from now, rounded up to a whole second (certificate times have no milliseconds). */
export function daysFromNow(days: number): Date {
  return new Date(Math.ceil((Date.now() + days * DAY_MS) / 1000) * 1000);
}

/** 2026-01-01T00:00:00.000Z -> 2026-01-01T00:00:00Z, as the audit writes times. */
export const utc = (date: Date) => date.toISOString().replace(/\.000Z$/, 'Z');

export const GROUPS = {
  expired: 'certs-expired-root',
  rollover: 'certs-rollover',
  expiring: 'certs-expiring',
  valid: 'certs-valid',
} as const;

export const DEVICES = {
  expired: 'cert-expired',
  notYetValid: 'cert-early',
  expiredAssigned: 'cert-expired-assigned',
  rollover: 'cert-rollover',
  valid: 'cert-valid',
} as const;

export interface CertificateFleet {
  /** The expired signing certificate of GROUPS.expired: a device under it is refused. */
  expiredRoot: CertificateAuthority;
  /** notAfter of GROUPS.expiring's signing certificate. */
  expiringAt: Date;
  /** notBefore of DEVICES.notYetValid's certificate. */
  validFrom: Date;
  /** The certificate enrolled for DEVICES.expired (expired). */
  expiredDevice: IssuedCertificate;
}

const webhook = { webhookUrl: `${EXPECTED_URL}?code=${FUNCTION_KEY}`, apiVersion: '2021-10-01' };

function group(emulator: DpsEmulator, id: string, primary: string, secondary?: string): void {
  emulator.createEnrollmentGroup({
    enrollmentGroupId: id,
    attestation: {
      type: 'x509',
      x509: {
        signingCertificates: {
          primary: { certificate: primary },
          ...(secondary ? { secondary: { certificate: secondary } } : {}),
        },
      },
    },
    allocationPolicy: 'custom',
    customAllocationDefinition: webhook,
  });
}

/** Writes (or replaces) the individual enrollment of a device with these certificates. */
export function enrollDevice(
  emulator: DpsEmulator,
  registrationId: string,
  primary: IssuedCertificate,
  secondary?: IssuedCertificate,
): void {
  emulator.createIndividualEnrollment({
    registrationId,
    attestation: {
      type: 'x509',
      x509: {
        clientCertificates: {
          primary: { certificate: primary.certPem },
          ...(secondary ? { secondary: { certificate: secondary.certPem } } : {}),
        },
      },
    },
    allocationPolicy: 'custom',
    customAllocationDefinition: webhook,
  });
}

const device = (registrationId: string, validity: { notBefore?: Date; notAfter?: Date } = {}) =>
  createSelfSignedDeviceCertificate({ subject: `CN=${registrationId}`, ...validity });

export async function seedCertificateFleet(emulator: DpsEmulator): Promise<CertificateFleet> {
  const expiringAt = daysFromNow(10);
  const validFrom = daysFromNow(5);
  const [expiredRoot, oldRoot, newRoot, expiringRoot, validRoot] = await Promise.all([
    createRootAuthority({ subject: 'CN=Expired Root, O=Contoso', ...EXPIRED }),
    createRootAuthority({ subject: 'CN=Old Root, O=Contoso', ...EXPIRED }),
    createRootAuthority({ subject: 'CN=New Root, O=Contoso' }),
    createRootAuthority({ subject: 'CN=Expiring Root, O=Contoso', notAfter: expiringAt }),
    createRootAuthority({ subject: 'CN=Valid Root, O=Contoso' }),
  ]);
  group(emulator, GROUPS.expired, expiredRoot.certPem);
  group(emulator, GROUPS.rollover, oldRoot.certPem, newRoot.certPem);
  group(emulator, GROUPS.expiring, expiringRoot.certPem);
  group(emulator, GROUPS.valid, validRoot.certPem);

  const expiredDevice = await device(DEVICES.expired, EXPIRED);
  enrollDevice(emulator, DEVICES.expired, expiredDevice);
  enrollDevice(emulator, DEVICES.notYetValid, await device(DEVICES.notYetValid, { notBefore: validFrom }));
  enrollDevice(emulator, DEVICES.expiredAssigned, await device(DEVICES.expiredAssigned, EXPIRED));
  enrollDevice(
    emulator,
    DEVICES.rollover,
    await device(DEVICES.rollover, EXPIRED),
    await device(DEVICES.rollover),
  );
  enrollDevice(emulator, DEVICES.valid, await device(DEVICES.valid));

  // Registered while its certificate was valid: DPS keeps the state (and the device its hub) after the expiry.
  const assigned = emulator.store.newRegistration(DEVICES.expiredAssigned, undefined);
  assigned.status = 'assigned';
  assigned.assignedHub = emulator.linkedHubs[0]!.hostName;
  assigned.deviceId = DEVICES.expiredAssigned;
  emulator.store.saveRegistration(assigned);
  return { expiredRoot, expiringAt, validFrom, expiredDevice };
}

/** A device registering over HTTPS with its certificate (and chain); rejects with the SDK's error. */
export function registerDevice(
  emulator: DpsEmulator,
  registrationId: string,
  certificate: IssuedCertificate,
) {
  const client = createSdkX509DeviceClient(emulator, 'http', registrationId, {
    cert: certificate.chainPem,
    key: certificate.keyPem,
  });
  return registerWithClient(client);
}

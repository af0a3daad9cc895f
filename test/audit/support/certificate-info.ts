// Hand-made X509CertificateInfo and X.509 enrollments for the pure certificate tests: only the fields the audit
// reads matter (subjectName and the validity), the rest are filled as DPS would.
import type { EnrollmentGroup, IndividualEnrollment } from '../../../src/dps/schemas';

type CertificatePair = NonNullable<
  NonNullable<IndividualEnrollment['attestation']['x509']>['clientCertificates']
>;
type CertificateEntry = NonNullable<CertificatePair['primary']>;
type CertificateInfo = NonNullable<CertificateEntry['info']>;

export const DAY_MS = 86_400_000;

/** The info DPS returns for a certificate valid from `notBefore` to `notAfter`; `fields` override. */
export function certificateInfo(
  subjectName: string,
  validity: { notBefore: Date; notAfter: Date },
  fields: Partial<CertificateInfo> = {},
): CertificateInfo {
  return {
    subjectName,
    sha1Thumbprint: 'A'.repeat(40),
    sha256Thumbprint: 'B'.repeat(64),
    issuerName: subjectName,
    notBeforeUtc: validity.notBefore.toISOString(),
    notAfterUtc: validity.notAfter.toISOString(),
    serialNumber: '01',
    version: 3,
    ...fields,
  };
}

/** An entry as reads return it: `certificate: null` beside the info (null or absent info too). */
export const entry = (info: CertificateInfo | null | undefined): CertificateEntry => ({
  certificate: null,
  info,
});

export function x509Group(signingCertificates: CertificatePair): EnrollmentGroup {
  return {
    enrollmentGroupId: 'fleet',
    attestation: { type: 'x509', x509: { signingCertificates } },
    allocationPolicy: 'custom',
  };
}

export function x509Individual(
  clientCertificates: CertificatePair,
  fields: Partial<IndividualEnrollment> = {},
): IndividualEnrollment {
  return {
    registrationId: 'device-1',
    attestation: { type: 'x509', x509: { clientCertificates } },
    allocationPolicy: 'custom',
    ...fields,
  };
}

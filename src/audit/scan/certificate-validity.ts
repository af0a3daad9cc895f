// How the X.509 certificates an enrollment holds stand at a given time, from the `info` DPS returns for each
// (X509CertificateInfo, docs/dps-contract.md §4.2): an individual enrollment's device certificates
// (clientCertificates), a group's signing certificates. DPS refuses a device whose certificate, or one in its chain,
// has expired or is not valid yet. Pure: info that is missing or does not parse makes a certificate `unknown`,
// never a problem.
import type { EnrollmentGroup, IndividualEnrollment } from '../../dps/schemas';
import type { EnrollmentKind } from '../rows/tables';

export const DEFAULT_CERTIFICATE_EXPIRY_WARNING_DAYS = 30;

export type CertificateRole = 'primary' | 'secondary';

/** Refused now: expired, not-yet-valid. Accepted now: expiring (within the warning window), valid. Or unknown. */
export type CertificateValidity = 'expired' | 'not-yet-valid' | 'expiring' | 'valid' | 'unknown';

export interface EnrolledCertificate {
  role: CertificateRole;
  /** As DPS prints it, e.g. `CN=device-1, O=Contoso`. */
  subjectName: string | undefined;
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  validity: CertificateValidity;
}

export interface ValidityClock {
  nowMs: number;
  /** A certificate valid now that expires within this is `expiring`. */
  expiryWarningMs: number;
}

// RFC 3339, as the REST spec's date-time: Date.parse alone also accepts loose forms such as "1".
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function parseTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function validityOf(
  notBefore: Date | undefined,
  notAfter: Date | undefined,
  clock: ValidityClock,
): CertificateValidity {
  const { nowMs, expiryWarningMs } = clock;
  if (notAfter && nowMs > notAfter.getTime()) return 'expired';
  if (notBefore && nowMs < notBefore.getTime()) return 'not-yet-valid';
  if (!notAfter) return 'unknown';
  return notAfter.getTime() - nowMs <= expiryWarningMs ? 'expiring' : 'valid';
}

/** The certificates of an X.509 enrollment (a group's signing certificates), primary first; none otherwise. */
export function enrolledCertificates(
  enrollment: EnrollmentGroup | IndividualEnrollment,
  kind: EnrollmentKind,
  clock: ValidityClock,
): EnrolledCertificate[] {
  const { attestation } = enrollment;
  if (attestation.type !== 'x509') return [];
  const pair =
    kind === 'group' ? attestation.x509?.signingCertificates : attestation.x509?.clientCertificates;
  const certificates: EnrolledCertificate[] = [];
  for (const role of ['primary', 'secondary'] as const) {
    const entry = pair?.[role];
    if (!entry) continue;
    const info = entry.info ?? undefined;
    const notBefore = parseTime(info?.notBeforeUtc);
    const notAfter = parseTime(info?.notAfterUtc);
    const subject = info?.subjectName?.trim();
    certificates.push({
      role,
      subjectName: subject ? subject : undefined,
      notBefore,
      notAfter,
      validity: validityOf(notBefore, notAfter, clock),
    });
  }
  return certificates;
}

/** Whether DPS refuses a device presenting this certificate (or chaining to it) now. */
export const isRefused = (certificate: EnrolledCertificate): boolean =>
  certificate.validity === 'expired' || certificate.validity === 'not-yet-valid';

/** Whether DPS accepts it now (an `unknown` certificate is neither refused nor known to be accepted). */
export const isAccepted = (certificate: EnrolledCertificate): boolean =>
  certificate.validity === 'valid' || certificate.validity === 'expiring';

/** 2026-05-01T00:00:00.000Z -> "2026-05-01T00:00:00Z": stable text, so a rescan rewrites nothing. */
export function formatUtc(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** "expired at …" or "is not valid before …" of a refused certificate. */
export function refusalPhrase(certificate: EnrolledCertificate): string {
  return certificate.validity === 'expired'
    ? `expired at ${formatUtc(certificate.notAfter!)}`
    : `is not valid before ${formatUtc(certificate.notBefore!)}`;
}

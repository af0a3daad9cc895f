// Enrollment findings about X.509 certificates: expired, not valid yet, or expiring within the warning window.
// Messages name the certificate and give absolute times (never "in 3 days"), so an unchanged enrollment keeps
// the same findings and a rescan writes nothing. When the other certificate of the pair is valid, the finding
// says so: devices using that one are not refused.
import type { EnrollmentGroup, IndividualEnrollment } from '../../dps/schemas';
import type { EnrollmentKind, Finding } from '../rows/tables';
import {
  enrolledCertificates,
  formatUtc,
  isAccepted,
  refusalPhrase,
  type EnrolledCertificate,
  type ValidityClock,
} from './certificate-validity';

function label(certificate: EnrolledCertificate, kind: EnrollmentKind): string {
  const noun = kind === 'group' ? 'signing certificate' : 'certificate';
  const subject = certificate.subjectName ? ` (${certificate.subjectName})` : '';
  return `The ${certificate.role} ${noun}${subject}`;
}

/** What DPS does to the devices while the certificate is refused. */
function consequence(kind: EnrollmentKind): string {
  return kind === 'group' ? 'DPS refuses every device that chains to it' : 'DPS refuses the device (401)';
}

function finding(
  certificate: EnrolledCertificate,
  other: EnrolledCertificate | undefined,
  kind: EnrollmentKind,
): Finding | undefined {
  const name = label(certificate, kind);
  const otherAccepted = other !== undefined && isAccepted(other);
  switch (certificate.validity) {
    case 'expired': {
      const what = `${name} ${refusalPhrase(certificate)}`;
      const message = otherAccepted
        ? `${what}; the ${other.role} is still valid: replace or remove the ${certificate.role}.`
        : `${what}: ${consequence(kind)}.`;
      return { code: 'certificate-expired', message };
    }
    case 'not-yet-valid': {
      // Often a rollover prepared ahead of time: only a problem while nothing else is valid.
      const what = `${name} ${refusalPhrase(certificate)}`;
      const message = otherAccepted
        ? `${what}; the ${other.role} is valid meanwhile.`
        : `${what}: ${consequence(kind)} until then.`;
      return { code: 'certificate-not-yet-valid', message };
    }
    case 'expiring':
      return {
        code: 'certificate-expiring',
        message: `${name} expires at ${formatUtc(certificate.notAfter!)}: renew it before then.`,
      };
    default:
      return undefined;
  }
}

/** One finding per certificate that is expired, not valid yet or expiring; none for other attestations. */
export function reviewCertificates(
  enrollment: EnrollmentGroup | IndividualEnrollment,
  kind: EnrollmentKind,
  clock: ValidityClock,
): Finding[] {
  const certificates = enrolledCertificates(enrollment, kind, clock);
  return certificates.flatMap((certificate) => {
    const other = certificates.find((candidate) => candidate.role !== certificate.role);
    return finding(certificate, other, kind) ?? [];
  });
}

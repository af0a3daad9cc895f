// What an individual enrollment (one device) looks like to the audit: its registration state, and whether DPS
// refuses the device at attestation for its enrolled certificates. DPS keeps no registration state for a device it
// refuses there (docs/dps-contract.md §4.2), so the refusal is seen on the enrollment: every enrolled certificate
// expired or not valid yet, and the device not assigned. Pure.
import type { DeviceRegistrationState, IndividualEnrollment } from '../../dps/schemas';
import { observeRegistration, type Observation } from '../rows/problems';
import {
  enrolledCertificates,
  isRefused,
  refusalPhrase,
  type EnrolledCertificate,
} from './certificate-validity';

/** DPS's code for a device refused at attestation (docs/dps-contract.md §5). */
export const REFUSED_AT_ATTESTATION = 401002;

function described(certificate: EnrolledCertificate, prefix: string): string {
  const subject = certificate.subjectName ? ` (enrollment certificate ${certificate.subjectName})` : '';
  return `${prefix} ${refusalPhrase(certificate)}${subject}`;
}

/** Why DPS refuses the device, or undefined while one of its certificates is, or may be, accepted. */
export function certificateRefusal(enrollment: IndividualEnrollment, nowMs: number): string | undefined {
  const certificates = enrolledCertificates(enrollment, 'individual', { nowMs, expiryWarningMs: 0 });
  if (certificates.length === 0 || !certificates.every(isRefused)) return undefined;
  const phrases = certificates.map((certificate) =>
    described(
      certificate,
      certificates.length === 1 ? 'its certificate' : `its ${certificate.role} certificate`,
    ),
  );
  return `DPS refuses this device: ${phrases.join(' and ')}.`;
}

/**
 * The observation of an individual enrollment and its registration state (undefined: DPS has none). A refused
 * device is a `failed` 401002 problem unless it is assigned; a disabled enrollment is refused for that already.
 */
export function observeIndividual(
  enrollment: IndividualEnrollment,
  state: DeviceRegistrationState | undefined,
  nowMs: number,
  assigningGraceMs: number,
): Observation {
  const fromState: Observation = state
    ? observeRegistration(state, nowMs, assigningGraceMs)
    : { kind: 'gone', resolution: 'deleted' };
  if (fromState.kind === 'assigned' || enrollment.provisioningStatus === 'disabled') return fromState;
  const refusal = certificateRefusal(enrollment, nowMs);
  if (refusal === undefined) return fromState;
  return {
    kind: 'problem',
    status: 'failed',
    errorCode: REFUSED_AT_ATTESTATION,
    source: 'enrollment-certificate',
    explanation: refusal,
  };
}

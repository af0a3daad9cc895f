// X.509 attestation of an enrollment at save time (docs/dps-contract.md §4.2): each certificate is parsed and
// described in `info` (the eight X509CertificateInfo fields), as DPS does; a certificate that does not parse is a
// 400 that says which one. Reads return `certificate: null` with the info, as DPS does, so a client that writes
// back what it read keeps the stored certificate when the thumbprint in its `info` still names it.
import type { AttestationMechanism } from '../../src/dps/schemas';
import { badRequest } from './errors';
import { CertificateParseError, certificateInfoOf, parseCertificate } from './x509-info';

type X509Attestation = NonNullable<AttestationMechanism['x509']>;
type CertificatePair = NonNullable<X509Attestation['clientCertificates']>;
type CertificateEntry = NonNullable<CertificatePair['primary']>;

function completedEntry(
  entry: CertificateEntry | null | undefined,
  previous: CertificateEntry | null | undefined,
  field: string,
): CertificateEntry | null | undefined {
  if (!entry) return entry;
  let pem = entry.certificate;
  if (!pem) {
    const thumbprint = entry.info?.sha256Thumbprint;
    const kept = previous?.certificate;
    if (!thumbprint || !kept || previous.info?.sha256Thumbprint !== thumbprint) {
      throw badRequest(`${field}.certificate is required`);
    }
    pem = kept;
  }
  try {
    return { ...entry, certificate: pem, info: { ...certificateInfoOf(parseCertificate(pem)) } };
  } catch (error) {
    if (error instanceof CertificateParseError) throw badRequest(`${field}.certificate ${error.message}`);
    throw error;
  }
}

function completedPair(
  pair: CertificatePair | null | undefined,
  previous: CertificatePair | null | undefined,
  field: string,
): CertificatePair | null | undefined {
  if (!pair) return pair;
  if (!pair.primary) throw badRequest(`${field}.primary is required`);
  return {
    ...pair,
    primary: completedEntry(pair.primary, previous?.primary, `${field}.primary`),
    secondary: completedEntry(pair.secondary, previous?.secondary, `${field}.secondary`),
  };
}

/** Checks and describes the certificates of an X.509 attestation; other attestations pass unchanged. */
export function withCertificateInfo(
  attestation: AttestationMechanism,
  kind: 'group' | 'individual',
  previous: AttestationMechanism | undefined,
): AttestationMechanism {
  if (attestation.type !== 'x509') return attestation;
  const x509 = attestation.x509;
  const before = previous?.type === 'x509' ? previous.x509 : undefined;
  const field = 'attestation.x509';
  if (kind === 'individual' && !x509?.clientCertificates) {
    throw badRequest(`${field}.clientCertificates is required for an individual X.509 enrollment`);
  }
  if (kind === 'group') {
    if (x509?.clientCertificates) {
      throw badRequest(
        `${field}.clientCertificates is for individual enrollments; a group takes signingCertificates or caReferences`,
      );
    }
    if (!x509?.signingCertificates && !x509?.caReferences?.primary) {
      throw badRequest(`${field} needs signingCertificates or caReferences for an enrollment group`);
    }
  }
  return {
    ...attestation,
    x509: {
      ...x509,
      clientCertificates: completedPair(
        x509?.clientCertificates,
        before?.clientCertificates,
        `${field}.clientCertificates`,
      ),
      signingCertificates: completedPair(
        x509?.signingCertificates,
        before?.signingCertificates,
        `${field}.signingCertificates`,
      ),
    },
  };
}

function withoutCertificate(entry: CertificateEntry | null | undefined): CertificateEntry | null | undefined {
  return entry ? { ...entry, certificate: null } : entry;
}

function pairWithoutCertificates(
  pair: CertificatePair | null | undefined,
): CertificatePair | null | undefined {
  return pair
    ? { ...pair, primary: withoutCertificate(pair.primary), secondary: withoutCertificate(pair.secondary) }
    : pair;
}

/** The attestation as reads return it: certificates described by `info`, their PEMs left out. */
export function presentedX509(attestation: AttestationMechanism): AttestationMechanism {
  if (attestation.type !== 'x509' || !attestation.x509) return attestation;
  return {
    ...attestation,
    x509: {
      ...attestation.x509,
      clientCertificates: pairWithoutCertificates(attestation.x509.clientCertificates),
      signingCertificates: pairWithoutCertificates(attestation.x509.signingCertificates),
    },
  };
}

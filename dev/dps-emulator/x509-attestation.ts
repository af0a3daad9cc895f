// X.509 attestation of a device (docs/dps-contract.md §4.2): the device's TLS client certificate authenticates
// it. An individual enrollment matches the certificate itself (primary or secondary, by thumbprint); an enrollment
// group matches when the certificate chains, through the intermediates the device sent, to the group's signing
// certificate or to a verified CA the group references. The registration id must be the subject's common name
// (learn.microsoft.com/azure/iot-dps/concepts-x509-attestation). A refusal carries a reason for the log, never a key.
import type { X509Certificate } from 'node:crypto';
import type { EmulatorStore, EnrollmentRef, StoredGroup } from './store';
import type { X509CertificateInfo } from './x509-info';
import { certificateInfoOf, commonNameOf, parseCertificate } from './x509-info';

/** Deeper chains are refused: DPS documents none; real fleets use one or two intermediates. */
const MAX_CHAIN_DEPTH = 8;

export class X509Refusal extends Error {}

export interface X509Attestation {
  enrollment: EnrollmentRef;
  certificateInfo: X509CertificateInfo;
  /** For a group: the signing or CA certificate the device's chain reached. */
  signingCertificateInfo: X509CertificateInfo | undefined;
}

export interface X509AttestationDeps {
  store: EmulatorStore;
  /** Verified CA certificates by name, as `caReferences` name them. */
  verifiedCertificate: (name: string) => X509Certificate | undefined;
  now: Date;
}

const parsedCertificates = new Map<string, X509Certificate>();

/** Enrollment certificates are parsed when stored; this keeps the parsed form for every later device. */
function parsedOnce(pem: string): X509Certificate {
  let parsed = parsedCertificates.get(pem);
  if (!parsed) {
    parsed = parseCertificate(pem);
    if (parsedCertificates.size > 10_000) parsedCertificates.clear();
    parsedCertificates.set(pem, parsed);
  }
  return parsed;
}

const validities = new WeakMap<X509Certificate, { fromMs: number; toMs: number }>();

/** notBefore and notAfter in ms, parsed once per certificate object (the connection's and the enrollments'). */
function validityOf(certificate: X509Certificate): { fromMs: number; toMs: number } {
  let validity = validities.get(certificate);
  if (!validity) {
    validity = { fromMs: Date.parse(certificate.validFrom), toMs: Date.parse(certificate.validTo) };
    validities.set(certificate, validity);
  }
  return validity;
}

function validityProblem(certificate: X509Certificate, now: Date, what: string): string | undefined {
  const { fromMs, toMs } = validityOf(certificate);
  if (now.getTime() < fromMs) {
    return `${what} is not valid before ${new Date(certificate.validFrom).toISOString()}`;
  }
  if (now.getTime() > toMs) {
    return `${what} expired at ${new Date(certificate.validTo).toISOString()}`;
  }
  return undefined;
}

// Signature checks are the cost of attestation; a connection's chain and the enrollments' certificates are
// parsed once, so their objects are stable and the answers can be kept with them.
const issuedByAnswers = new WeakMap<X509Certificate, WeakMap<X509Certificate, boolean>>();
const infoOfCertificate = new WeakMap<X509Certificate, X509CertificateInfo>();

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  let answers = issuedByAnswers.get(child);
  if (!answers) {
    answers = new WeakMap();
    issuedByAnswers.set(child, answers);
  }
  let answer = answers.get(issuer);
  if (answer === undefined) {
    answer = child.checkIssued(issuer) && child.verify(issuer.publicKey);
    answers.set(issuer, answer);
  }
  return answer;
}

function describedOnce(certificate: X509Certificate): X509CertificateInfo {
  let info = infoOfCertificate.get(certificate);
  if (!info) {
    info = certificateInfoOf(certificate);
    infoOfCertificate.set(certificate, info);
  }
  return info;
}

type ChainOutcome = { reached: true } | { reached: false; problem?: string };

/** Whether `leaf` chains to `anchor` through CA certificates the device sent. */
function chainReaches(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  anchor: X509Certificate,
  now: Date,
): ChainOutcome {
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth += 1) {
    if (issuedBy(current, anchor)) {
      const problem = validityProblem(anchor, now, `the signing certificate ${anchor.subject}`);
      return problem ? { reached: false, problem } : { reached: true };
    }
    const issuer = presented.find((candidate) => candidate.ca && issuedBy(current, candidate));
    if (!issuer || issuer === current) return { reached: false };
    const problem = validityProblem(issuer, now, `the intermediate certificate ${issuer.subject}`);
    if (problem) return { reached: false, problem };
    current = issuer;
  }
  return { reached: false, problem: `the chain is deeper than ${MAX_CHAIN_DEPTH} certificates` };
}

interface CertificatePair {
  primary?: { certificate?: string | null } | null;
  secondary?: { certificate?: string | null } | null;
}

function certificatesOf(pair: CertificatePair | null | undefined): X509Certificate[] {
  return [pair?.primary?.certificate, pair?.secondary?.certificate]
    .filter((pem): pem is string => typeof pem === 'string' && pem.length > 0)
    .map(parsedOnce);
}

/** The certificates a group trusts: its signing certificates and the verified CAs it references. */
function anchorsOf(group: StoredGroup, deps: X509AttestationDeps): X509Certificate[] {
  const x509 = group.value.attestation.x509;
  const referenced = [x509?.caReferences?.primary, x509?.caReferences?.secondary]
    .filter((name): name is string => typeof name === 'string' && name.length > 0)
    .map((name) => deps.verifiedCertificate(name))
    .filter((certificate): certificate is X509Certificate => certificate !== undefined);
  return [...certificatesOf(x509?.signingCertificates), ...referenced];
}

/**
 * The enrollment that a device's certificate chain (`chain[0]` the device certificate, then what it sent)
 * authenticates as `registrationId`; an X509Refusal with the reason otherwise.
 */
export function attestX509(
  registrationId: string,
  chain: readonly X509Certificate[],
  deps: X509AttestationDeps,
): X509Attestation {
  const [leaf, ...presented] = chain;
  if (!leaf) throw new X509Refusal('the device sent no client certificate');
  const commonName = commonNameOf(leaf);
  if (commonName?.toLowerCase() !== registrationId.toLowerCase()) {
    throw new X509Refusal(
      `the certificate's subject CN '${(commonName ?? '').slice(0, 128)}' is not the registration id`,
    );
  }
  const expiry = validityProblem(leaf, deps.now, 'the device certificate');
  if (expiry) throw new X509Refusal(expiry);
  const certificateInfo = describedOnce(leaf);

  const individual = deps.store.getIndividual(registrationId);
  if (individual) {
    // An individual enrollment takes precedence over any group, as for symmetric keys.
    const { attestation } = individual.value;
    if (attestation.type !== 'x509') {
      throw new X509Refusal(`the individual enrollment uses ${attestation.type} attestation, not X.509`);
    }
    const enrolled = certificatesOf(attestation.x509?.clientCertificates);
    const thumbprint = certificateInfo.sha256Thumbprint;
    if (!enrolled.some((certificate) => describedOnce(certificate).sha256Thumbprint === thumbprint)) {
      throw new X509Refusal(
        "the certificate is not the individual enrollment's primary or secondary certificate",
      );
    }
    return {
      enrollment: { kind: 'individual', individual },
      certificateInfo,
      signingCertificateInfo: undefined,
    };
  }

  const known = deps.store.getRegistration(registrationId)?.enrollmentGroupKey;
  const groups = deps.store.allGroups().filter((group) => group.value.attestation.type === 'x509');
  const ordered = known
    ? [...groups.filter((g) => g.key === known), ...groups.filter((g) => g.key !== known)]
    : groups;
  const problems = new Set<string>();
  for (const group of ordered) {
    for (const anchor of anchorsOf(group, deps)) {
      const outcome = chainReaches(leaf, presented, anchor, deps.now);
      if (outcome.reached) {
        return {
          enrollment: { kind: 'group', group },
          certificateInfo,
          signingCertificateInfo: describedOnce(anchor),
        };
      }
      if (outcome.problem) problems.add(outcome.problem);
    }
  }
  if (problems.size > 0) throw new X509Refusal([...problems].join('; '));
  throw new X509Refusal(
    `no enrollment for the certificate: it is not enrolled and its issuer (${certificateInfo.issuerName.slice(0, 200)}) chains to no enrollment group's signing certificate or CA`,
  );
}

/**
 * For a connection that keeps the identity it proved at CONNECT (device-api.ts): whether attesting the same `chain`
 * now would meet the same certificates in the same state. The group's anchors must still resolve to the same
 * certificates (a verified CA can be added or replaced at any time), and no certificate attestation looks at (the
 * chain, the group's anchors) may have become valid or expired since. That the enrollment itself is stored
 * unchanged is the caller's check.
 */
export function attestationStability(
  chain: readonly X509Certificate[],
  enrollment: EnrollmentRef,
  deps: X509AttestationDeps,
): (now: X509AttestationDeps) => boolean {
  const anchors = enrollment.kind === 'group' ? anchorsOf(enrollment.group, deps) : [];
  const since = deps.now.getTime();
  // validityProblem's answers change at notBefore and just after notAfter.
  let until = Infinity;
  for (const certificate of [...chain, ...anchors]) {
    const { fromMs, toMs } = validityOf(certificate);
    for (const change of [fromMs, toMs + 1]) if (change > since && change < until) until = change;
  }
  return (now) => {
    const time = now.now.getTime();
    if (time < since || time >= until) return false;
    if (enrollment.kind === 'individual') return true;
    const current = anchorsOf(enrollment.group, now);
    return current.length === anchors.length && current.every((anchor, i) => anchor === anchors[i]);
  };
}

// The device's X.509 certificate as the policy reads it, from deviceRuntimeContext.x509. That object is documented
// only as "certificate details" [CA]; its field names are UNCONFIRMED (docs/dps-contract.md §1.2). We read the
// shape of DPS's device-side X509RegistrationResult (certificateInfo, signingCertificateInfo: X509CertificateInfo)
// and near spellings, tolerantly: a field we cannot read is absent, and nothing here throws.
import { parseDistinguishedName, type DistinguishedName } from './distinguished-name';
import { attestationTypeOf, isJsonObject, type AllocationRequest } from './request';

export interface DeviceCertificate {
  subject: DistinguishedName | undefined;
  issuer: DistinguishedName | undefined;
  /** Upper-case hex without separators; undefined unless it has 40 digits. */
  sha1Thumbprint: string | undefined;
  /** Upper-case hex without separators; undefined unless it has 64 digits. */
  sha256Thumbprint: string | undefined;
  notBefore: Date | undefined;
  notAfter: Date | undefined;
  /** Subject of the signing (CA or intermediate) certificate a group enrollment's chain reached. */
  signingSubject: DistinguishedName | undefined;
}

/** The device certificate in `x509` (deviceRuntimeContext.x509); undefined when it holds no certificate data. */
export function deviceCertificateOf(x509: unknown): DeviceCertificate | undefined {
  if (!isJsonObject(x509)) return undefined;
  const info = objectField(x509, 'certificateInfo') ?? objectField(x509, 'clientCertificateInfo');
  if (!info) return undefined;
  const signing =
    objectField(x509, 'signingCertificateInfo') ??
    objectField(objectField(x509, 'signingCertificate'), 'info');
  const certificate: DeviceCertificate = {
    subject: parseDistinguishedName(field(info, 'subjectName')),
    issuer: parseDistinguishedName(field(info, 'issuerName')),
    sha1Thumbprint: thumbprint(field(info, 'sha1Thumbprint'), 40),
    sha256Thumbprint: thumbprint(field(info, 'sha256Thumbprint'), 64),
    notBefore: date(field(info, 'notBeforeUtc')),
    notAfter: date(field(info, 'notAfterUtc')),
    signingSubject: signing ? parseDistinguishedName(field(signing, 'subjectName')) : undefined,
  };
  const { signingSubject: _signing, ...own } = certificate;
  return Object.values(own).some((value) => value !== undefined) ? certificate : undefined;
}

/** The certificate of an X.509 device; undefined for any other attestation, whatever the runtime context holds. */
export function requestCertificate(request: AllocationRequest): DeviceCertificate | undefined {
  if (attestationTypeOf(request) !== 'x509') return undefined;
  return deviceCertificateOf(request.deviceRuntimeContext.x509);
}

/** A thumbprint as the policy compares it: hex digits only, upper case (colons and spaces dropped). */
export function normalThumbprint(text: string): string {
  return text.replace(/[\s:]/g, '').toUpperCase();
}

/** The preferred thumbprint: SHA-256 when DPS sent one, else SHA-1. */
export function thumbprintOf(certificate: DeviceCertificate): string | undefined {
  return certificate.sha256Thumbprint ?? certificate.sha1Thumbprint;
}

/** A field by name, any letter case (`subjectName`, `SubjectName`), own properties only. */
function field(object: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

function objectField(object: Record<string, unknown> | undefined, name: string) {
  if (!object) return undefined;
  const value = field(object, name);
  return isJsonObject(value) ? value : undefined;
}

function thumbprint(value: unknown, digits: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const hex = normalThumbprint(value);
  return hex.length === digits && /^[0-9A-F]+$/.test(hex) ? hex : undefined;
}

/** An ISO 8601 date-time such as DPS's `2027-01-01T00:00:00Z` (Date.parse alone would take "1" for 2001). */
function date(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !/^\s*\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isFinite(time) ? new Date(time) : undefined;
}

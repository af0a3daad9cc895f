// Certificates as DPS describes them: the eight fields of X509CertificateInfo (REST spec, service.json,
// api-version 2021-10-01), computed from a PEM or base64 DER certificate. Names are written most specific
// first, comma separated (`CN=device-1, OU=Line 4, O=Contoso`), as .NET's X500DistinguishedName prints them;
// DPS's exact formatting of multi-attribute names is UNCONFIRMED (docs/dps-contract.md §4.2).
import { X509Certificate } from 'node:crypto';

export interface X509CertificateInfo {
  subjectName: string;
  sha1Thumbprint: string;
  sha256Thumbprint: string;
  issuerName: string;
  notBeforeUtc: string;
  notAfterUtc: string;
  serialNumber: string;
  version: number;
}

export class CertificateParseError extends Error {}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Parses one certificate: PEM, or base64 DER as the DPS portal and SDKs also accept. */
export function parseCertificate(text: string): X509Certificate {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('-----BEGIN CERTIFICATE-----')) return new X509Certificate(trimmed);
    if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) && trimmed.length > 0) {
      return new X509Certificate(Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'));
    }
  } catch {
    // Reported below with the same message.
  }
  throw new CertificateParseError('is not an X.509 certificate in PEM or base64 DER form');
}

/** Every certificate of a PEM bundle, in order (a device chain: leaf first). */
export function parseCertificateBundle(pem: string): X509Certificate[] {
  return (pem.match(PEM_BLOCK) ?? []).map((block) => new X509Certificate(block));
}

function quoted(value: string): string {
  return /[,+="\n<>#;]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Node's one-attribute-a-line name (encoding order) as `CN=..., O=...` (most specific first). */
export function distinguishedName(nodeName: string): string {
  return nodeName
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const equals = line.indexOf('=');
      return equals < 0 ? line : `${line.slice(0, equals)}=${quoted(line.slice(equals + 1))}`;
    })
    .reverse()
    .join(', ');
}

/** The subject's common name (the last CN when there are several), or undefined. */
export function commonNameOf(certificate: X509Certificate): string | undefined {
  const names = certificate.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  return names.at(-1);
}

const hex = (fingerprint: string) => fingerprint.replace(/:/g, '').toUpperCase();

export function certificateInfoOf(certificate: X509Certificate): X509CertificateInfo {
  return {
    subjectName: distinguishedName(certificate.subject),
    sha1Thumbprint: hex(certificate.fingerprint),
    sha256Thumbprint: hex(certificate.fingerprint256),
    issuerName: distinguishedName(certificate.issuer),
    notBeforeUtc: new Date(certificate.validFrom).toISOString(),
    notAfterUtc: new Date(certificate.validTo).toISOString(),
    serialNumber: certificate.serialNumber.toUpperCase(),
    // X509Certificate has no version field; every certificate with extensions (all DPS takes) is v3.
    version: 3,
  };
}

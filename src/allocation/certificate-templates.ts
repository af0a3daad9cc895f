// {{x509.…}} placeholders: device certificate fields for initialTwin and payload templates. A device without a
// certificate (or a certificate without that field) gives no value: the template's missing-value rule applies.
import { attributeValues, type DistinguishedName } from './distinguished-name';
import { thumbprintOf, type DeviceCertificate } from './device-certificate';
import { CERTIFICATE_NAME_PARTS } from './policy-schema';

type CertificateLookup = (certificate: DeviceCertificate) => string | undefined;

/** Several values of one attribute (two OUs) are joined in the order the name lists them. */
function namePart(name: DistinguishedName | undefined, part: (typeof CERTIFICATE_NAME_PARTS)[number]) {
  if (name === undefined) return undefined;
  if (part === 'DN') return name.text;
  const values = attributeValues(name, part);
  return values.length === 0 ? undefined : values.join(', ');
}

const lookups = new Map<string, CertificateLookup>();
for (const field of ['subject', 'issuer', 'signingSubject'] as const) {
  for (const part of CERTIFICATE_NAME_PARTS) {
    lookups.set(`x509.${field}.${part}`, (certificate) => namePart(certificate[field], part));
  }
}
lookups.set('x509.notBefore', (certificate) => certificate.notBefore?.toISOString());
lookups.set('x509.notAfter', (certificate) => certificate.notAfter?.toISOString());
lookups.set('x509.thumbprint', thumbprintOf);
lookups.set('x509.sha1Thumbprint', (certificate) => certificate.sha1Thumbprint);
lookups.set('x509.sha256Thumbprint', (certificate) => certificate.sha256Thumbprint);

export const CERTIFICATE_PLACEHOLDER_NAMES: readonly string[] = [...lookups.keys()];

/** The lookup of a certificate placeholder name, or undefined when the name is not one. */
export function certificateLookup(name: string): CertificateLookup | undefined {
  return lookups.get(name);
}

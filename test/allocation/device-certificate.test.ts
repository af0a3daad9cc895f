import fc from 'fast-check';
import {
  deviceCertificateOf,
  normalThumbprint,
  thumbprintOf,
  type DeviceCertificate,
} from '../../src/allocation/device-certificate';
import { attributeValues } from '../../src/allocation/distinguished-name';
import type { X509CertificateInfo } from '../../dev/dps-emulator/x509-info';
import {
  createTestAuthority,
  expiringIn,
  groupX509,
  infoOf,
  type TestAuthority,
} from '../support/certificates';

let ca: TestAuthority;
let x509: Record<string, unknown>;
let leafInfo: X509CertificateInfo;
beforeAll(async () => {
  ca = await createTestAuthority();
  const leaf = await ca.intermediate.issueLeaf({
    subject: 'CN=device-1, OU=Line 4, O=Contoso-EU',
    ...expiringIn(90),
  });
  x509 = groupX509(leaf, ca.intermediate);
  leafInfo = infoOf(leaf);
});

const read = (value: unknown): DeviceCertificate => {
  const certificate = deviceCertificateOf(value);
  if (!certificate) throw new Error('expected a certificate');
  return certificate;
};

describe('the shape the DPS emulator sends (certificateInfo, signingCertificateInfo)', () => {
  it('reads subject, issuer, signing subject, thumbprints and validity', () => {
    const certificate = read(x509);
    expect(attributeValues(certificate.subject, 'CN')).toEqual(['device-1']);
    expect(attributeValues(certificate.subject, 'O')).toEqual(['Contoso-EU']);
    expect(attributeValues(certificate.issuer, 'CN')).toEqual(['Contoso Intermediate EU']);
    expect(attributeValues(certificate.signingSubject, 'CN')).toEqual(['Contoso Intermediate EU']);
    expect(certificate.sha1Thumbprint).toBe(leafInfo.sha1Thumbprint);
    expect(certificate.sha256Thumbprint).toBe(leafInfo.sha256Thumbprint);
    expect(thumbprintOf(certificate)).toBe(leafInfo.sha256Thumbprint);
    expect(certificate.notAfter?.toISOString()).toBe(leafInfo.notAfterUtc);
    expect(certificate.notBefore?.toISOString()).toBe(leafInfo.notBeforeUtc);
  });

  it('has no signing subject for an individual enrollment', () => {
    expect(read({ certificateInfo: leafInfo }).signingSubject).toBeUndefined();
  });
});

describe('near spellings', () => {
  it('takes clientCertificateInfo and signingCertificate.info', () => {
    const certificate = read({
      clientCertificateInfo: leafInfo,
      signingCertificate: { info: { subjectName: 'CN=Other CA' } },
    });
    expect(attributeValues(certificate.subject, 'CN')).toEqual(['device-1']);
    expect(attributeValues(certificate.signingSubject, 'CN')).toEqual(['Other CA']);
  });

  it('takes field names in any letter case', () => {
    const pascal = Object.fromEntries(
      Object.entries(leafInfo).map(([key, value]) => [key[0]!.toUpperCase() + key.slice(1), value]),
    );
    const certificate = read({ CertificateInfo: pascal });
    expect(attributeValues(certificate.subject, 'O')).toEqual(['Contoso-EU']);
    expect(certificate.sha256Thumbprint).toBe(leafInfo.sha256Thumbprint);
  });

  it('reads thumbprints with colons and lower case; drops ones of the wrong length', () => {
    const colons = leafInfo.sha1Thumbprint.toLowerCase().match(/../g)!.join(':');
    const certificate = read({ certificateInfo: { sha1Thumbprint: colons, sha256Thumbprint: '5D7A0E0E' } });
    expect(certificate.sha1Thumbprint).toBe(leafInfo.sha1Thumbprint);
    expect(certificate.sha256Thumbprint).toBeUndefined();
    expect(thumbprintOf(certificate)).toBe(leafInfo.sha1Thumbprint);
    expect(normalThumbprint(' ab:CD ef ')).toBe('ABCDEF');
  });
});

describe('odd shapes: no certificate data, never an exception', () => {
  it.each<[string, unknown]>([
    ['not an object', 'CN=device-1'],
    ['no certificateInfo', { enrollmentGroupId: 'g' }],
    ['an empty x509', {}],
    ['certificateInfo that is not an object', { certificateInfo: 'CN=device-1' }],
    ['certificateInfo as a list', { certificateInfo: [leafInfo] }],
    ['certificateInfo without a field we read', { certificateInfo: { version: 3, serialNumber: '01' } }],
    [
      'fields of the wrong types',
      {
        certificateInfo: {
          subjectName: 5,
          issuerName: {},
          notAfterUtc: '1',
          notBeforeUtc: 'soon',
          sha1Thumbprint: 7,
        },
      },
    ],
  ])('%s', (_case, value) => {
    expect(deviceCertificateOf(value)).toBeUndefined();
  });

  it('keeps what it can read and leaves the rest absent', () => {
    const certificate = read({ certificateInfo: { subjectName: 'CN=gateway-17', notAfterUtc: 'never' } });
    expect(attributeValues(certificate.subject, 'CN')).toEqual(['gateway-17']);
    expect(certificate.notAfter).toBeUndefined();
    expect(certificate.issuer).toBeUndefined();
  });

  it('never throws, whatever the value', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ certificateInfo: fc.anything(), signingCertificateInfo: fc.anything() }),
          fc.record({
            certificateInfo: fc.dictionary(fc.constantFrom(...Object.keys(leafInfo)), fc.anything()),
          }),
        ),
        (value) => {
          const certificate = deviceCertificateOf(value);
          if (certificate?.notAfter) expect(Number.isFinite(certificate.notAfter.getTime())).toBe(true);
        },
      ),
      { seed: 0x0d95a112, numRuns: 300 },
    );
  });
});

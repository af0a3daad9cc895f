// A local test certificate authority: a root, intermediates under it, and device (leaf) certificates, for the
// emulator's X.509 attestation (docs/dps-contract.md §4.2), the demo fleet and tests. ECDSA P-256 keys, as in
// Microsoft's test-certificate tooling (learn.microsoft.com/azure/iot-hub/tutorial-x509-test-certs). Never for
// production: keys are generated in memory and written where the caller says.
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateSpec {
  /**
   * A distinguished name written most specific first (RFC 4514), such as `CN=device-1, OU=Line 4, O=Contoso`;
   * it is encoded the conventional way round (O, then OU, then CN), as OpenSSL's `-subj /O=../OU=../CN=..` does.
   */
  subject: string;
  /** Default: one minute ago. */
  notBefore?: Date;
  /** Default: `validDays` after notBefore. */
  notAfter?: Date;
  /** Default 365. */
  validDays?: number;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** The certificate, then its issuers up to (not including) the root: what a device sends in TLS. */
  chainPem: string;
}

export interface CertificateAuthority extends IssuedCertificate {
  issueIntermediate(spec: CertificateSpec): Promise<CertificateAuthority>;
  issueLeaf(spec: CertificateSpec): Promise<IssuedCertificate>;
}

function encodedName(subject: string): x509.Name {
  return new x509.Name(new x509.Name(subject).toJSON().reverse());
}

function validity(spec: CertificateSpec): { notBefore: Date; notAfter: Date } {
  const notBefore = spec.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = spec.notAfter ?? new Date(notBefore.getTime() + (spec.validDays ?? 365) * DAY_MS);
  return { notBefore, notAfter };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  return Buffer.from(bytes).toString('hex');
}

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = Buffer.from(
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey),
  );
  const lines = pkcs8.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function caExtensions(keys: CryptoKeyPair): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
}

async function leafExtensions(keys: CryptoKeyPair): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
}

interface Signer {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** The signer's certificate and its issuers below the root (empty for a root). */
  chainBelowRoot: string[];
}

async function issue(
  signer: Signer,
  spec: CertificateSpec,
  kind: 'ca' | 'leaf',
): Promise<{ certificate: x509.X509Certificate; keys: CryptoKeyPair; pem: string }> {
  const keys = await newKeys();
  const extensions = kind === 'ca' ? await caExtensions(keys) : await leafExtensions(keys);
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(signer.certificate));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: encodedName(spec.subject),
    issuer: signer.certificate.subjectName,
    ...validity(spec),
    publicKey: keys.publicKey,
    signingKey: signer.keys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return { certificate, keys, pem: certificate.toString('pem') + '\n' };
}

async function authority(signer: Signer): Promise<CertificateAuthority> {
  const certPem = signer.certificate.toString('pem') + '\n';
  return {
    certPem,
    keyPem: await keyPem(signer.keys),
    chainPem: signer.chainBelowRoot.join(''),
    async issueIntermediate(spec) {
      const { certificate, keys, pem } = await issue(signer, spec, 'ca');
      return authority({ certificate, keys, chainBelowRoot: [pem, ...signer.chainBelowRoot] });
    },
    async issueLeaf(spec) {
      const { keys, pem } = await issue(signer, spec, 'leaf');
      return { certPem: pem, keyPem: await keyPem(keys), chainPem: [pem, ...signer.chainBelowRoot].join('') };
    },
  };
}

async function selfSigned(
  spec: CertificateSpec,
  kind: 'ca' | 'leaf',
): Promise<{ certificate: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await newKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: encodedName(spec.subject),
    ...validity(spec),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: kind === 'ca' ? await caExtensions(keys) : await leafExtensions(keys),
  });
  return { certificate, keys };
}

/** A self-signed root CA. */
export async function createRootAuthority(spec: CertificateSpec): Promise<CertificateAuthority> {
  const { certificate, keys } = await selfSigned(spec, 'ca');
  return authority({ certificate, keys, chainBelowRoot: [] });
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** An authority written earlier (its certificate, PKCS#8 key and chain below the root), to issue more. */
export async function loadAuthority(saved: IssuedCertificate): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(saved.certPem);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pemBody(saved.keyPem), KEY_ALGORITHM, true, [
    'sign',
  ]);
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    certificate.publicKey.rawData,
    KEY_ALGORITHM,
    true,
    ['verify'],
  );
  const chainBelowRoot =
    saved.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  return authority({
    certificate,
    keys: { privateKey, publicKey } as CryptoKeyPair,
    chainBelowRoot: chainBelowRoot.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)),
  });
}

/** A self-signed device certificate, as individual X.509 enrollments use. */
export async function createSelfSignedDeviceCertificate(spec: CertificateSpec): Promise<IssuedCertificate> {
  const { certificate, keys } = await selfSigned(spec, 'leaf');
  const certPem = certificate.toString('pem') + '\n';
  return { certPem, keyPem: await keyPem(keys), chainPem: certPem };
}

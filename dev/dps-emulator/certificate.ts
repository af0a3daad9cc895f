// The emulator's TLS certificate: self-signed, SAN localhost + 127.0.0.1 + ::1, written as a PEM file that
// clients trust (NODE_EXTRA_CA_CERTS, an https.Agent `ca`, undici `connect.ca`). A certificate already in the
// directory is reused while valid, so that a trusted file stays trusted across restarts.
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface EmulatorCertificate {
  certPem: string;
  keyPem: string;
  /** Path of the certificate PEM file clients should trust. */
  certPath: string;
}

export const CERT_FILE_NAME = 'dps-emulator-cert.pem';
export const KEY_FILE_NAME = 'dps-emulator-key.pem';

const ONE_DAY_MS = 24 * 60 * 60 * 1000;

export async function generateCertificatePems(validDays = 365): Promise<{ certPem: string; keyPem: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + validDays * ONE_DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

/** A certificate that is still valid for a day and covers both loopback names. */
function isUsable(certPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const san = cert.subjectAltName ?? '';
    return (
      Date.parse(cert.validTo) - Date.now() > ONE_DAY_MS &&
      san.includes('DNS:localhost') &&
      san.includes('IP Address:127.0.0.1')
    );
  } catch {
    return false;
  }
}

/** Loads the certificate in `directory`, or generates one and writes it there. */
export async function loadOrCreateCertificate(directory: string): Promise<EmulatorCertificate> {
  const certPath = path.join(directory, CERT_FILE_NAME);
  const keyPath = path.join(directory, KEY_FILE_NAME);
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    if (isUsable(certPem)) return { certPem, keyPem, certPath };
  } catch {
    // No usable certificate yet: generate one below.
  }
  const { certPem, keyPem } = await generateCertificatePems();
  await mkdir(directory, { recursive: true });
  await writeFile(keyPath, keyPem, { mode: 0o600 });
  await writeFile(certPath, certPem);
  return { certPem, keyPem, certPath };
}

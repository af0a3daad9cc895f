// The demo's local test CA: a root and an intermediate (the X.509 enrollment group's signing certificate), kept in
// the git-ignored data folder so that they stay the same across starts and can sign your own test devices
// (README "Point a real device at the emulator"). Device certificates are issued anew at every start. Test
// certificates only: never use this CA in production.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { CertificateAuthority, IssuedCertificate } from '../test-ca/authority';
import { createRootAuthority, loadAuthority } from '../test-ca/authority';

export const DEMO_ROOT_SUBJECT = 'CN=dps-allocator Demo Root CA, O=dps-allocator demo';
export const DEMO_INTERMEDIATE_SUBJECT = 'CN=dps-allocator Demo Intermediate CA, O=dps-allocator demo';
const DAY_MS = 24 * 60 * 60 * 1000;
/** Renewed when less than this is left, so that a demo left for months still starts. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface DemoCa {
  dir: string;
  root: CertificateAuthority;
  intermediate: CertificateAuthority;
}

export function demoCaDir(dataDir: string): string {
  return path.join(dataDir, 'demo-ca');
}

async function readSaved(dir: string, name: string): Promise<IssuedCertificate | undefined> {
  try {
    const [certPem, keyPem, chainPem] = await Promise.all(
      ['cert', 'key', 'chain'].map((part) => readFile(path.join(dir, `${name}.${part}.pem`), 'utf8')),
    );
    const validTo = Date.parse(new X509Certificate(certPem!).validTo);
    return validTo - Date.now() > RENEW_BEFORE_MS
      ? { certPem: certPem!, keyPem: keyPem!, chainPem: chainPem! }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a certificate, its chain and its key (owner-only). */
export async function writeIssued(dir: string, name: string, issued: IssuedCertificate): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${name}.cert.pem`), issued.certPem);
  await writeFile(path.join(dir, `${name}.chain.pem`), issued.chainPem);
  const keyFile = path.join(dir, `${name}.key.pem`);
  await writeFile(keyFile, issued.keyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
}

/** The saved CA, or a new one (written) when there is none or it is about to expire. */
export async function loadOrCreateDemoCa(dataDir: string): Promise<DemoCa> {
  const dir = demoCaDir(dataDir);
  const [savedRoot, savedIntermediate] = await Promise.all([
    readSaved(dir, 'root'),
    readSaved(dir, 'intermediate'),
  ]);
  if (savedRoot && savedIntermediate) {
    return {
      dir,
      root: await loadAuthority(savedRoot),
      intermediate: await loadAuthority(savedIntermediate),
    };
  }
  const root = await createRootAuthority({ subject: DEMO_ROOT_SUBJECT, validDays: 3650 });
  const intermediate = await root.issueIntermediate({ subject: DEMO_INTERMEDIATE_SUBJECT, validDays: 1825 });
  await writeIssued(dir, 'root', root);
  await writeIssued(dir, 'intermediate', intermediate);
  return { dir, root, intermediate };
}

import { X509Certificate } from 'node:crypto';
import {
  createRootAuthority,
  createSelfSignedDeviceCertificate,
  loadAuthority,
} from '../../../dev/test-ca/authority';

function certificatesIn(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

describe('test certificate authority', () => {
  it('issues root -> intermediate -> leaf, each signed by the one above', async () => {
    const root = await createRootAuthority({ subject: 'CN=Test Root, O=Contoso' });
    const intermediate = await root.issueIntermediate({ subject: 'CN=Test Intermediate, O=Contoso' });
    const leaf = await intermediate.issueLeaf({ subject: 'CN=device-1, OU=Line 4, O=Contoso' });
    const [rootCert, intermediateCert, leafCert] = [root, intermediate, leaf].map(
      (issued) => new X509Certificate(issued.certPem),
    ) as [X509Certificate, X509Certificate, X509Certificate];

    expect(leafCert.subject.split('\n')).toEqual(
      expect.arrayContaining(['CN=device-1', 'O=Contoso', 'OU=Line 4']),
    );
    expect(leafCert.ca).toBe(false);
    expect(intermediateCert.ca).toBe(true);
    expect(leafCert.checkIssued(intermediateCert)).toBe(true);
    expect(leafCert.checkIssued(rootCert)).toBe(false);
    expect(leafCert.verify(intermediateCert.publicKey)).toBe(true);
    expect(intermediateCert.verify(rootCert.publicKey)).toBe(true);
    expect(leafCert.verify(rootCert.publicKey)).toBe(false);
    expect(leafCert.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    // What the device sends: its certificate, then the intermediate (not the root).
    expect(certificatesIn(leaf.chainPem).map((cert) => cert.fingerprint256)).toEqual([
      leafCert.fingerprint256,
      intermediateCert.fingerprint256,
    ]);
    expect(leaf.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('honours validity dates, so expired and not-yet-valid certificates can be made', async () => {
    const root = await createRootAuthority({ subject: 'CN=Test Root' });
    const expired = await root.issueLeaf({
      subject: 'CN=old-device',
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const cert = new X509Certificate(expired.certPem);
    expect(new Date(cert.validTo).toISOString()).toBe('2021-01-01T00:00:00.000Z');
    expect(new Date(cert.validFrom).toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });

  it('makes self-signed device certificates', async () => {
    const device = await createSelfSignedDeviceCertificate({ subject: 'CN=self-signed-1' });
    const cert = new X509Certificate(device.certPem);
    expect(cert.subject).toBe('CN=self-signed-1');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
  });
});

describe('a saved authority', () => {
  it('issues certificates that chain like the ones it issued before it was saved', async () => {
    const root = await createRootAuthority({ subject: 'CN=Saved Root' });
    const intermediate = await root.issueIntermediate({ subject: 'CN=Saved Intermediate' });
    const reloaded = await loadAuthority({
      certPem: intermediate.certPem,
      keyPem: intermediate.keyPem,
      chainPem: intermediate.chainPem,
    });
    const leaf = await reloaded.issueLeaf({ subject: 'CN=after-reload' });
    const leafCert = new X509Certificate(leaf.certPem);
    expect(leafCert.verify(new X509Certificate(intermediate.certPem).publicKey)).toBe(true);
    expect(certificatesIn(leaf.chainPem)).toHaveLength(2);
  });
});

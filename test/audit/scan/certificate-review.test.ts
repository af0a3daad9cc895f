// Enrollment findings about X.509 certificates, at a fixed time: expired, not valid yet and expiring certificates
// are named with absolute times; a valid other certificate softens the finding; missing or unparsable info and
// other attestations give none.
import { reviewCertificates } from '../../../src/audit/scan/certificate-review';
import { certificateInfo, DAY_MS, entry, x509Group, x509Individual } from '../support/certificate-info';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const CLOCK = { nowMs: NOW, expiryWarningMs: 30 * DAY_MS };
const at = (days: number) => new Date(NOW + days * DAY_MS);
/** Valid from `from` to `to`, in days from NOW. */
const valid = (subject: string, from: number, to: number) =>
  entry(certificateInfo(subject, { notBefore: at(from), notAfter: at(to) }));

const EXPIRED_AT = '2026-05-01T00:00:00Z';
const expired = (subject: string) =>
  entry(
    certificateInfo(subject, {
      notBefore: new Date('2025-05-01T00:00:00Z'),
      notAfter: new Date(EXPIRED_AT),
    }),
  );

describe('one certificate', () => {
  it('finds nothing wrong with a certificate valid beyond the warning window', () => {
    expect(reviewCertificates(x509Group({ primary: valid('CN=Root', -100, 200) }), 'group', CLOCK)).toEqual(
      [],
    );
  });

  it("says that an expired signing certificate refuses every device of the group, and an individual's its device", () => {
    expect(
      reviewCertificates(x509Group({ primary: expired('CN=Fleet Root, O=Contoso') }), 'group', CLOCK),
    ).toEqual([
      {
        code: 'certificate-expired',
        message:
          `The primary signing certificate (CN=Fleet Root, O=Contoso) expired at ${EXPIRED_AT}: ` +
          'DPS refuses every device that chains to it.',
      },
    ]);
    expect(
      reviewCertificates(x509Individual({ primary: expired('CN=device-1') }), 'individual', CLOCK),
    ).toEqual([
      {
        code: 'certificate-expired',
        message: `The primary certificate (CN=device-1) expired at ${EXPIRED_AT}: DPS refuses the device (401).`,
      },
    ]);
  });

  it('flags a certificate not valid yet, until when', () => {
    expect(
      reviewCertificates(x509Individual({ primary: valid('CN=device-1', 2, 400) }), 'individual', CLOCK),
    ).toEqual([
      {
        code: 'certificate-not-yet-valid',
        message:
          'The primary certificate (CN=device-1) is not valid before 2026-06-03T12:00:00Z: ' +
          'DPS refuses the device (401) until then.',
      },
    ]);
  });

  it('warns of a certificate that expires within the window, and only within it', () => {
    const expiring = (days: number, expiryWarningMs = CLOCK.expiryWarningMs) =>
      reviewCertificates(x509Group({ primary: valid('CN=Root', -300, days) }), 'group', {
        nowMs: NOW,
        expiryWarningMs,
      });
    expect(expiring(10)).toEqual([
      {
        code: 'certificate-expiring',
        message:
          'The primary signing certificate (CN=Root) expires at 2026-06-11T12:00:00Z: renew it before then.',
      },
    ]);
    expect(expiring(30).map((finding) => finding.code)).toEqual(['certificate-expiring']);
    expect(expiring(30.5)).toEqual([]);
    expect(expiring(10, 0)).toEqual([]);
  });

  it('reads times in other RFC 3339 offsets, and names a certificate without a subject by its role', () => {
    const info = certificateInfo(
      '',
      { notBefore: at(-400), notAfter: at(-1) },
      {
        notAfterUtc: '2026-05-01T02:00:00+02:00',
      },
    );
    expect(reviewCertificates(x509Individual({ primary: entry(info) }), 'individual', CLOCK)).toEqual([
      {
        code: 'certificate-expired',
        message: `The primary certificate expired at ${EXPIRED_AT}: DPS refuses the device (401).`,
      },
    ]);
  });
});

describe('primary and secondary', () => {
  it('softens the finding of an expired certificate while the other is valid', () => {
    const group = x509Group({ primary: expired('CN=Old Root'), secondary: valid('CN=New Root', -10, 700) });
    expect(reviewCertificates(group, 'group', CLOCK)).toEqual([
      {
        code: 'certificate-expired',
        message:
          `The primary signing certificate (CN=Old Root) expired at ${EXPIRED_AT}; ` +
          'the secondary is still valid: replace or remove the primary.',
      },
    ]);
  });

  it('softens a certificate not valid yet (a prepared rollover) while the other is valid', () => {
    const individual = x509Individual({
      primary: valid('CN=device-1', -300, 100),
      secondary: valid('CN=device-1 next', 60, 800),
    });
    expect(reviewCertificates(individual, 'individual', CLOCK)).toEqual([
      {
        code: 'certificate-not-yet-valid',
        message:
          'The secondary certificate (CN=device-1 next) is not valid before 2026-07-31T12:00:00Z; ' +
          'the primary is valid meanwhile.',
      },
    ]);
  });

  it('gives each refused certificate the full consequence when neither is valid', () => {
    const individual = x509Individual({ primary: expired('CN=a'), secondary: valid('CN=b', 5, 400) });
    expect(reviewCertificates(individual, 'individual', CLOCK)).toEqual([
      {
        code: 'certificate-expired',
        message: `The primary certificate (CN=a) expired at ${EXPIRED_AT}: DPS refuses the device (401).`,
      },
      {
        code: 'certificate-not-yet-valid',
        message:
          'The secondary certificate (CN=b) is not valid before 2026-06-06T12:00:00Z: ' +
          'DPS refuses the device (401) until then.',
      },
    ]);
  });

  it('does not call a certificate without info valid', () => {
    const group = x509Group({ primary: expired('CN=Old Root'), secondary: entry(null) });
    expect(reviewCertificates(group, 'group', CLOCK)[0]?.message).toMatch(/: DPS refuses every device/);
  });
});

describe('what gives no finding', () => {
  it('missing or unparsable info, without throwing', () => {
    const unparsable = [
      entry(null),
      entry(undefined),
      entry(
        certificateInfo(
          'CN=x',
          { notBefore: at(-1), notAfter: at(1) },
          { notAfterUtc: null, notBeforeUtc: null },
        ),
      ),
      entry(
        certificateInfo(
          'CN=x',
          { notBefore: at(-1), notAfter: at(1) },
          { notAfterUtc: 'soon', notBeforeUtc: '1' },
        ),
      ),
      entry(
        certificateInfo(
          'CN=x',
          { notBefore: at(-1), notAfter: at(1) },
          { notAfterUtc: '2026-13-45T99:99:99Z' },
        ),
      ),
    ];
    for (const primary of unparsable) {
      expect(reviewCertificates(x509Individual({ primary }), 'individual', CLOCK)).toEqual([]);
      expect(reviewCertificates(x509Group({ primary }), 'group', CLOCK)).toEqual([]);
    }
  });

  it('other attestations, CA references, and the pair of the other kind', () => {
    expect(
      reviewCertificates(
        { enrollmentGroupId: 'fleet', attestation: { type: 'symmetricKey' } },
        'group',
        CLOCK,
      ),
    ).toEqual([]);
    expect(
      reviewCertificates(
        {
          enrollmentGroupId: 'fleet',
          attestation: { type: 'x509', x509: { caReferences: { primary: 'ca-1' } } },
        },
        'group',
        CLOCK,
      ),
    ).toEqual([]);
    expect(reviewCertificates(x509Individual({ primary: expired('CN=a') }), 'group', CLOCK)).toEqual([]);
  });
});

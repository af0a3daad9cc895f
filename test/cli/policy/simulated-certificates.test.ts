import { deviceCertificateOf } from '../../../src/allocation/device-certificate';
import { attributeValues } from '../../../src/allocation/distinguished-name';
import { certificateFleet, DEFAULT_ISSUER } from '../../../src/cli/policy/simulated-certificates';
import { UsageError } from '../../../src/cli/shared/usage-error';

const NOW = Date.parse('2026-06-01T00:00:00.000Z');
const DAY_MS = 86_400_000;

function infoAt(fleet: ReturnType<typeof certificateFleet>, index: number, id = `device-${index}`) {
  const info: Record<string, unknown> = {};
  fleet.fill(info, index, id);
  return info;
}

describe('simulated certificates', () => {
  it('fill the eight X509CertificateInfo fields, which the policy reads back', () => {
    const fleet = certificateFleet({ organisations: 'Contoso-EU' }, NOW, 10);
    const info = infoAt(fleet, 3, 'meter-3');
    expect(Object.keys(info).sort()).toEqual(
      [
        'issuerName',
        'notAfterUtc',
        'notBeforeUtc',
        'serialNumber',
        'sha1Thumbprint',
        'sha256Thumbprint',
        'subjectName',
        'version',
      ].sort(),
    );
    const certificate = deviceCertificateOf({ certificateInfo: info });
    expect(attributeValues(certificate?.subject, 'CN')).toEqual(['meter-3']);
    expect(attributeValues(certificate?.subject, 'O')).toEqual(['Contoso-EU']);
    expect(certificate?.issuer?.text).toBe(DEFAULT_ISSUER);
    expect(certificate?.sha1Thumbprint).toHaveLength(40);
    expect(certificate?.sha256Thumbprint).toHaveLength(64);
  });

  it('hand organisations out in turn, by weight', () => {
    const fleet = certificateFleet({ organisations: 'A:2, B ,C' }, NOW, 8);
    expect(Array.from({ length: 8 }, (_, i) => fleet.organisationAt(i))).toEqual([
      'A',
      'A',
      'B',
      'C',
      'A',
      'A',
      'B',
      'C',
    ]);
    expect(fleet.organisations).toEqual(['A', 'B', 'C']);
    expect(fleet.description).toContain('O in turn: A ×2, B, C');
  });

  it('fill a subject template', () => {
    const fleet = certificateFleet(
      { subject: 'CN={id}, OU=Line {n}, O={org}', organisations: 'X,Y' },
      NOW,
      4,
    );
    expect(infoAt(fleet, 3, 'meter-3').subjectName).toBe('CN=meter-3, OU=Line 3, O=Y');
    expect(infoAt(certificateFleet({}, NOW, 1), 0, 'solo').subjectName).toBe('CN=solo');
  });

  it('spread notAfter evenly over the range, from its start to its end', () => {
    const fleet = certificateFleet({ expiry: '1d..401d' }, NOW, 5);
    const days = Array.from(
      { length: 5 },
      (_, i) => (Date.parse(infoAt(fleet, i).notAfterUtc as string) - NOW) / DAY_MS,
    );
    expect(days).toEqual([1, 101, 201, 301, 401]);
    const single = certificateFleet({ expiry: '2w' }, NOW, 3);
    expect(infoAt(single, 2).notAfterUtc).toBe(new Date(NOW + 14 * DAY_MS).toISOString());
    expect(certificateFleet({ expiry: '0..1d' }, NOW, 1).description).toContain('notAfter in 0..1d');
  });

  it('give each device its own thumbprint', () => {
    const fleet = certificateFleet({}, NOW, 100);
    const thumbprints = new Set(Array.from({ length: 100 }, (_, i) => infoAt(fleet, i).sha256Thumbprint));
    expect(thumbprints.size).toBe(100);
  });

  it.each([
    [{ subject: 'CN={id}, O={org}' }, /uses \{org\}: give the organisations with --cert-orgs/],
    [{ subject: 'CN={name}' }, /--cert-subject: unknown placeholder \{name\}/],
    [{ subject: 'CN={id}', organisations: 'A' }, /--cert-orgs needs \{org\} in --cert-subject/],
    [{ organisations: 'A,,B' }, /has an empty organisation/],
    [{ organisations: 'A,A' }, /lists 'A' twice/],
    [{ organisations: 'A:0' }, /weight of 'A' must be a whole number from 1 to 1000/],
    [{ expiry: '3y' }, /--cert-expiry '3y' is not a duration/],
    [{ expiry: '1d..2d..3d' }, /is not a duration/],
    [{ expiry: '10d..1d' }, /the end comes before the start/],
  ])('refuse %j', (options, message) => {
    expect(() => certificateFleet(options, NOW, 10)).toThrow(UsageError);
    expect(() => certificateFleet(options, NOW, 10)).toThrow(message);
  });
});

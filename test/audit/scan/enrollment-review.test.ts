// Enrollment checks: what an operator must fix before devices fail, with the webhook URL kept without its key.
import { reviewEnrollment as review } from '../../../src/audit/scan/enrollment-review';
import type { EnrollmentGroup } from '../../../src/dps/schemas';

const APP_URL = 'https://my-app.azurewebsites.net/api/allocate';
const NOW = Date.parse('2026-06-01T12:00:00Z');
const reviewEnrollment = (group: EnrollmentGroup, expectedWebhookUrl: string | undefined) =>
  review(group, 'group', { expectedWebhookUrl, nowMs: NOW, expiryWarningMs: 30 * 86_400_000 });
const codes = (group: EnrollmentGroup, expected = APP_URL) =>
  reviewEnrollment(group, expected).findings.map((finding) => finding.code);

function group(fields: Partial<EnrollmentGroup>): EnrollmentGroup {
  return { enrollmentGroupId: 'fleet', attestation: { type: 'symmetricKey' }, ...fields };
}

const custom = (webhookUrl: string, fields: Partial<EnrollmentGroup> = {}) =>
  group({
    allocationPolicy: 'custom',
    customAllocationDefinition: { webhookUrl, apiVersion: '2021-10-01' },
    ...fields,
  });

it('finds nothing wrong with a custom group calling this app with a function key', () => {
  const review = reviewEnrollment(custom(`${APP_URL}?code=KEY123`), APP_URL);
  expect(review).toEqual({
    allocationPolicy: 'custom',
    provisioningStatus: 'enabled',
    webhook: APP_URL,
    findings: [],
  });
  expect(codes(custom('HTTPS://My-App.AzureWebsites.net/api/allocate/?code=k&x=1'))).toEqual([]);
});

it('flags a policy other than custom, including the default (hashed)', () => {
  expect(codes(group({ allocationPolicy: 'static' }))).toEqual(['allocation-not-custom']);
  expect(reviewEnrollment(group({}), APP_URL)).toMatchObject({
    allocationPolicy: 'hashed',
    findings: [{ code: 'allocation-not-custom', message: expect.stringMatching(/'hashed'/) }],
  });
});

it('flags a webhook pointing elsewhere, a webhook without a key, and an invalid URL', () => {
  expect(codes(custom('https://other-app.azurewebsites.net/api/allocate?code=k'))).toEqual([
    'webhook-elsewhere',
  ]);
  expect(codes(custom(`${APP_URL}/v2?code=k`))).toEqual(['webhook-elsewhere']);
  expect(codes(custom(APP_URL))).toEqual(['webhook-without-key']);
  expect(codes(custom(`${APP_URL}?code=`))).toEqual(['webhook-without-key']);
  expect(codes(custom('not a url'))).toEqual(['webhook-invalid-url']);
  const withoutKey = reviewEnrollment(custom(APP_URL), APP_URL).findings[0];
  expect(withoutKey?.message).toMatch(/400209/);
});

it('skips the this-app check when the app URL is unknown', () => {
  expect(reviewEnrollment(custom('https://anything.example.net/x?code=k'), undefined).findings).toEqual([]);
});

it('flags a disabled enrollment', () => {
  expect(codes(custom(`${APP_URL}?code=k`, { provisioningStatus: 'disabled' }))).toEqual([
    'enrollment-disabled',
  ]);
});

it('keeps only scheme, host and path of the webhook URL', () => {
  const review = reviewEnrollment(
    custom('https://user:pw@other.example.net/api/allocate?code=SECRET#frag'),
    APP_URL,
  );
  expect(review.webhook).toBe('https://other.example.net/api/allocate');
  expect(JSON.stringify(review)).not.toMatch(/SECRET|pw@/);
});

it('adds the certificate findings after the webhook checks', () => {
  const x509 = custom(`${APP_URL}?code=k`, {
    attestation: {
      type: 'x509',
      x509: {
        signingCertificates: {
          primary: {
            certificate: null,
            info: { subjectName: 'CN=Root', notAfterUtc: '2026-05-01T00:00:00Z' },
          },
        },
      },
    },
    provisioningStatus: 'disabled',
  });
  expect(codes(x509)).toEqual(['enrollment-disabled', 'certificate-expired']);
});

// Pure enrollment checks: what an operator should fix in an enrollment group (or individual enrollment) before
// its devices fail. Only the redacted webhook URL and a yes/no about its function key leave this module.
import { redactWebhookUrl } from '../../dps/redact';
import type { EnrollmentGroup, IndividualEnrollment } from '../../dps/schemas';
import type { EnrollmentKind, Finding } from '../rows/tables';
import { reviewCertificates } from './certificate-review';
import type { ValidityClock } from './certificate-validity';

export interface EnrollmentReview {
  allocationPolicy: string;
  provisioningStatus: string;
  /** Scheme, host and path of the webhook URL; undefined without a custom allocation definition. */
  webhook: string | undefined;
  findings: Finding[];
}

/** What the checks compare with: this app's allocate URL (unknown: that check is skipped) and the time. */
export interface ReviewContext extends ValidityClock {
  expectedWebhookUrl: string | undefined;
}

/** scheme://host/path, lower-cased, without a trailing slash: how webhook URLs are compared (query ignored). */
function comparableUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`.toLowerCase().replace(/\/+$/, '');
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * The checks: allocation policy not `custom`; webhook URL not this app's allocate URL (when it is known); webhook
 * URL without a function key (DPS then fails devices with 400209); enrollment disabled; X.509 certificates
 * expired, not valid yet or expiring (certificate-review.ts).
 */
export function reviewEnrollment(
  enrollment: EnrollmentGroup | IndividualEnrollment,
  kind: EnrollmentKind,
  context: ReviewContext,
): EnrollmentReview {
  const { expectedWebhookUrl } = context;
  // DPS's default policy is hashed (docs/dps-contract.md §2.3).
  const allocationPolicy = enrollment.allocationPolicy ?? 'hashed';
  const provisioningStatus = enrollment.provisioningStatus ?? 'enabled';
  const rawWebhook = enrollment.customAllocationDefinition?.webhookUrl;
  const findings: Finding[] = [];

  if (allocationPolicy !== 'custom') {
    findings.push({
      code: 'allocation-not-custom',
      message: `The allocation policy is '${allocationPolicy}', so DPS does not call this app's allocate webhook.`,
    });
  } else if (rawWebhook !== undefined) {
    const url = parseUrl(rawWebhook);
    if (!url) {
      findings.push({ code: 'webhook-invalid-url', message: 'The webhook URL is not a valid absolute URL.' });
    } else {
      const expected = expectedWebhookUrl === undefined ? undefined : parseUrl(expectedWebhookUrl);
      if (expected && comparableUrl(url) !== comparableUrl(expected)) {
        findings.push({
          code: 'webhook-elsewhere',
          message: `The webhook URL does not point at this app (${redactWebhookUrl(expectedWebhookUrl!)}).`,
        });
      }
      if (!url.searchParams.get('code')) {
        findings.push({
          code: 'webhook-without-key',
          message:
            'The webhook URL has no function key (?code=): the allocate function answers 401 and DPS fails ' +
            'every device with 400209.',
        });
      }
    }
  }
  if (provisioningStatus === 'disabled') {
    findings.push({
      code: 'enrollment-disabled',
      message: 'The enrollment is disabled: DPS refuses its devices.',
    });
  }
  findings.push(...reviewCertificates(enrollment, kind, context));
  return {
    allocationPolicy,
    provisioningStatus,
    webhook: rawWebhook === undefined ? undefined : redactWebhookUrl(rawWebhook),
    findings,
  };
}

// match.x509: conditions on the device certificate. The first one requires a certificate at all, so a symmetric-key
// or TPM device, or an X.509 request without readable certificate details, never matches and is told why.
import { attributeValues, type DistinguishedName } from './distinguished-name';
import { durationMs } from './duration';
import { normalThumbprint, type DeviceCertificate } from './device-certificate';
import type { Condition, MatchContext } from './matchers';
import type {
  CertificateMatch,
  CertificateNameMatch,
  CertificateNamePart,
  ExpiryMatch,
  StringMatcher,
} from './policy-schema';
import { compileStringMatcher, describeStringMatcher } from './string-matcher';

type NameField = 'subject' | 'issuer' | 'signingSubject';

const MISSING_NAME: Record<NameField, string> = {
  subject: 'the device certificate has no subject',
  issuer: 'the device certificate has no issuer',
  signingSubject:
    'no signing certificate subject (DPS sends one for group enrollments: the CA or intermediate the chain reached)',
};

export function compileCertificateMatch(match: CertificateMatch): Condition[] {
  const conditions: Condition[] = [hasCertificate];
  for (const field of ['subject', 'issuer', 'signingSubject'] as const) {
    const name = match[field];
    if (name) conditions.push(...compileNameMatch(field, name));
  }
  if (match.thumbprint !== undefined) conditions.push(compileThumbprints([match.thumbprint].flat()));
  if (match.notAfter !== undefined) conditions.push(...compileExpiry(match.notAfter));
  return conditions;
}

const hasCertificate: Condition = {
  test: (ctx) => ctx.certificate !== undefined,
  describeMismatch: (ctx) =>
    ctx.attestation === 'x509'
      ? 'device has no certificate details (deviceRuntimeContext.x509 has no readable certificateInfo)'
      : `device has no certificate (attestation ${ctx.attestation ?? 'unknown'})`,
};

/** A condition on a certificate: without one it fails, saying so (it never reads past a missing certificate). */
function onCertificate(
  test: (certificate: DeviceCertificate, ctx: MatchContext) => boolean,
  describeMismatch: (certificate: DeviceCertificate, ctx: MatchContext) => string,
): Condition {
  return {
    test: (ctx) => ctx.certificate !== undefined && test(ctx.certificate, ctx),
    describeMismatch: (ctx) =>
      ctx.certificate === undefined
        ? hasCertificate.describeMismatch(ctx)
        : describeMismatch(ctx.certificate, ctx),
  };
}

function compileNameMatch(field: NameField, match: CertificateNameMatch): Condition[] {
  return (Object.entries(match) as [CertificateNamePart, StringMatcher][]).map(([part, matcher]) => {
    const test = compileStringMatcher(matcher);
    const label = `x509.${field}.${part}`;
    const valuesOf = (name: DistinguishedName | undefined) =>
      name === undefined ? [] : part === 'DN' ? [name.text] : attributeValues(name, part);
    return onCertificate(
      (certificate) => valuesOf(certificate[field]).some(test),
      (certificate) => {
        const name = certificate[field];
        if (name === undefined) return MISSING_NAME[field];
        const values = valuesOf(name);
        if (values.length === 0) return `x509.${field} '${name.text}' has no ${part}`;
        const shown = values.map((value) => `'${value}'`).join(', ');
        const verb = values.length === 1 ? 'does not match' : 'do not match';
        return `${label} ${shown} ${verb} ${describeStringMatcher(matcher)}`;
      },
    );
  });
}

function compileThumbprints(listed: readonly string[]): Condition {
  const wanted = new Set(listed.map(normalThumbprint));
  return onCertificate(
    ({ sha1Thumbprint, sha256Thumbprint }) =>
      (sha1Thumbprint !== undefined && wanted.has(sha1Thumbprint)) ||
      (sha256Thumbprint !== undefined && wanted.has(sha256Thumbprint)),
    ({ sha1Thumbprint, sha256Thumbprint }) => {
      const sent = [
        ...(sha256Thumbprint ? [`SHA-256 ${sha256Thumbprint}`] : []),
        ...(sha1Thumbprint ? [`SHA-1 ${sha1Thumbprint}`] : []),
      ];
      if (sent.length === 0) return 'the device certificate has no thumbprint';
      const among = wanted.size === 1 ? 'is not the one listed' : `is not one of the ${wanted.size} listed`;
      return `x509 thumbprint (${sent.join(', ')}) ${among}`;
    },
  );
}

function compileExpiry(match: ExpiryMatch): Condition[] {
  const conditions: Condition[] = [];
  const expiring = (
    holds: (notAfter: number, now: number) => boolean,
    failure: (now: number) => string,
  ): Condition =>
    onCertificate(
      ({ notAfter }, ctx) => notAfter !== undefined && holds(notAfter.getTime(), ctx.now),
      ({ notAfter }, ctx) =>
        notAfter === undefined
          ? 'the device certificate has no notAfter'
          : `x509.notAfter ${notAfter.toISOString()} ${failure(ctx.now)}`,
    );
  if (match.within !== undefined) {
    const within = match.within;
    const span = durationMs(within)!; // the schema admits durations only
    conditions.push(
      expiring(
        (notAfter, now) => notAfter <= now + span,
        (now) => `is more than ${within} after ${new Date(now).toISOString()}`,
      ),
    );
  }
  if (match.before !== undefined) {
    const before = Date.parse(match.before);
    conditions.push(
      expiring(
        (notAfter) => notAfter < before,
        () => `is not before ${match.before}`,
      ),
    );
  }
  if (match.after !== undefined) {
    const after = Date.parse(match.after);
    conditions.push(
      expiring(
        (notAfter) => notAfter > after,
        () => `is not after ${match.after}`,
      ),
    );
  }
  return conditions;
}

// Rule conditions, compiled once per policy. Each condition can say why it did not match (for explanations).
import { compileCertificateMatch } from './certificate-matchers';
import type { DeviceCertificate } from './device-certificate';
import { parseDottedPath, valueAt } from './json-path';
import type { Match, PayloadCondition } from './policy-schema';
import { compileStringMatcher, describeStringMatcher } from './string-matcher';

/** What a rule can look at, computed once per request. */
export interface MatchContext {
  registrationId: string;
  enrollmentKind: 'group' | 'individual';
  enrollmentGroupId: string | undefined;
  attestation: string | undefined;
  iotEdge: boolean;
  assignment: 'initial' | 'reprovision';
  payload: Record<string, unknown> | undefined;
  /** The device certificate; undefined unless the device attests with X.509 and DPS sent certificate details. */
  certificate: DeviceCertificate | undefined;
  /** Evaluation time, ms since the epoch: certificate expiry is measured from it. */
  now: number;
}

export interface Condition {
  test(ctx: MatchContext): boolean;
  /** Why the condition does not hold for this context. */
  describeMismatch(ctx: MatchContext): string;
}

export function compileMatch(match: Match | undefined): Condition[] {
  if (!match) return [];
  const conditions: Condition[] = [];
  if (match.registrationId !== undefined) {
    const test = compileStringMatcher(match.registrationId);
    conditions.push({
      test: (ctx) => test(ctx.registrationId),
      describeMismatch: (ctx) =>
        `registrationId '${ctx.registrationId}' does not match ${describeStringMatcher(match.registrationId!)}`,
    });
  }
  if (match.enrollmentGroupId !== undefined) {
    const test = compileStringMatcher(match.enrollmentGroupId);
    conditions.push({
      test: (ctx) => ctx.enrollmentGroupId !== undefined && test(ctx.enrollmentGroupId),
      describeMismatch: (ctx) =>
        ctx.enrollmentGroupId === undefined
          ? 'the device registers through an individual enrollment, not a group'
          : `enrollment group '${ctx.enrollmentGroupId}' does not match ${describeStringMatcher(match.enrollmentGroupId!)}`,
    });
  }
  if (match.enrollmentKind !== undefined) {
    const kind = match.enrollmentKind;
    conditions.push({
      test: (ctx) => ctx.enrollmentKind === kind,
      describeMismatch: (ctx) => `enrollment is ${ctx.enrollmentKind}, rule wants ${kind}`,
    });
  }
  if (match.attestation !== undefined) {
    const wanted = new Set<string>([match.attestation].flat());
    conditions.push({
      test: (ctx) => ctx.attestation !== undefined && wanted.has(ctx.attestation),
      describeMismatch: (ctx) =>
        `attestation '${ctx.attestation ?? 'unknown'}' is not ${[...wanted].join(' or ')}`,
    });
  }
  if (match.iotEdge !== undefined) {
    const wanted = match.iotEdge;
    conditions.push({
      test: (ctx) => ctx.iotEdge === wanted,
      describeMismatch: (ctx) => `capabilities.iotEdge is ${ctx.iotEdge}, rule wants ${wanted}`,
    });
  }
  if (match.assignment !== undefined) {
    const wanted = match.assignment;
    conditions.push({
      test: (ctx) => ctx.assignment === wanted,
      describeMismatch: (ctx) => `assignment is ${ctx.assignment}, rule wants ${wanted}`,
    });
  }
  for (const [path, condition] of Object.entries(match.payload ?? {})) {
    conditions.push(compilePayloadCondition(path, condition));
  }
  if (match.x509 !== undefined) conditions.push(...compileCertificateMatch(match.x509));
  return conditions;
}

function compilePayloadCondition(path: string, condition: PayloadCondition): Condition {
  const steps = parseDottedPath(path);
  const read = (ctx: MatchContext): unknown => valueAt(ctx.payload, steps);
  const shown = (value: unknown): string => (value === undefined ? 'absent' : JSON.stringify(value));
  if (condition.exists !== undefined) {
    const wanted = condition.exists;
    return {
      test: (ctx) => (read(ctx) !== undefined && read(ctx) !== null) === wanted,
      describeMismatch: () => `payload.${path} is ${wanted ? 'absent' : 'present'}`,
    };
  }
  if (condition.regex !== undefined) {
    const re = new RegExp(condition.regex, 'u');
    return {
      test: (ctx) => {
        const value = read(ctx);
        return typeof value === 'string' && re.test(value);
      },
      describeMismatch: (ctx) => `payload.${path} (${shown(read(ctx))}) does not match /${condition.regex}/`,
    };
  }
  if (condition.in !== undefined) {
    const options = condition.in;
    return {
      test: (ctx) => {
        const value = read(ctx);
        return options.some((option) => jsonEquals(option, value));
      },
      describeMismatch: (ctx) =>
        `payload.${path} (${shown(read(ctx))}) is not one of ${JSON.stringify(options)}`,
    };
  }
  const expected = condition.equals;
  return {
    test: (ctx) => jsonEquals(expected, read(ctx)),
    describeMismatch: (ctx) =>
      `payload.${path} (${shown(read(ctx))}) does not equal ${JSON.stringify(expected)}`,
  };
}

/** Structural equality of JSON values. */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every(
    (key) =>
      Object.prototype.hasOwnProperty.call(b, key) &&
      jsonEquals((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

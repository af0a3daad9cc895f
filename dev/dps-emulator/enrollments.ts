// Enrollment records in and out: validation of what a client writes (the rules DPS enforces at save time,
// as far as they are known), defaults, generated symmetric keys, and the shape returned by GET/query
// (without keys: since api-version 2021-10-01 keys are read with POST .../attestationmechanism, which is why
// `az iot dps enrollment-group show --show-keys` makes that second call; azure-iot-cli-extension dps.py).
import { z } from 'zod';
import type { AttestationMechanism, EnrollmentGroup, IndividualEnrollment } from '../../src/dps/schemas';
import { enrollmentGroupSchema, individualEnrollmentSchema } from '../../src/dps/schemas';
import type { LinkedHub } from './allocation';
import { sameHub } from './allocation';
import { presentedX509, withCertificateInfo } from './enrollment-certificates';
import { badRequest } from './errors';
import { assertValidId, formatEtag, newSymmetricKey } from './ids';
import type { StoredEnrollment } from './store';

type Enrollment = EnrollmentGroup | IndividualEnrollment;

function parseWith<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw badRequest(`Invalid ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function isValidSymmetricKey(key: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) return false;
  const bytes = Buffer.from(key, 'base64').length;
  return bytes >= 16 && bytes <= 64;
}

/** Missing symmetric keys are generated, as DPS does when a client writes none. */
function withSymmetricKeys(attestation: AttestationMechanism): AttestationMechanism {
  if (attestation.type !== 'symmetricKey') return attestation;
  const given = attestation.symmetricKey ?? {};
  for (const key of [given.primaryKey, given.secondaryKey]) {
    if (key !== undefined && key !== null && !isValidSymmetricKey(key)) {
      throw badRequest('Symmetric keys must be base64 strings of 16 to 64 bytes');
    }
  }
  return {
    ...attestation,
    symmetricKey: {
      ...given,
      primaryKey: given.primaryKey ?? newSymmetricKey(),
      secondaryKey: given.secondaryKey ?? newSymmetricKey(),
    },
  };
}

/** Save-time rules shared by groups and individual enrollments. */
function validateAllocation(enrollment: Enrollment, linkedHubs: readonly LinkedHub[]): void {
  if (enrollment.allocationPolicy === 'custom' && !enrollment.customAllocationDefinition) {
    // The message DPS answers (MicrosoftDocs/azure-docs#17690).
    throw badRequest(
      "A CustomAllocationDefinition is required when the allocation policy is set to 'Custom'",
    );
  }
  const hubs = [
    ...(enrollment.iotHubs ?? []),
    ...(enrollment.iotHubHostName ? [enrollment.iotHubHostName] : []),
  ];
  for (const hub of hubs) {
    if (!linkedHubs.some((linked) => sameHub(linked.hostName, hub))) {
      throw badRequest(`IoT hub '${hub.slice(0, 200)}' is not linked to this provisioning service`);
    }
  }
  if (enrollment.allocationPolicy === 'static' && new Set(hubs.map((hub) => hub.toLowerCase())).size !== 1) {
    throw badRequest('The static allocation policy requires exactly one IoT hub');
  }
}

/** What is stored already under the id being written: its attestation keeps a certificate a client left out. */
export type StoredAttestationLookup = (id: string) => AttestationMechanism | undefined;

function withDefaults<T extends Enrollment>(
  enrollment: T,
  kind: 'group' | 'individual',
  previous: AttestationMechanism | undefined,
): T {
  return {
    ...enrollment,
    provisioningStatus: enrollment.provisioningStatus ?? 'enabled',
    capabilities: enrollment.capabilities ?? { iotEdge: false },
    reprovisionPolicy: {
      ...enrollment.reprovisionPolicy,
      updateHubAssignment: enrollment.reprovisionPolicy?.updateHubAssignment ?? true,
      migrateDeviceData: enrollment.reprovisionPolicy?.migrateDeviceData ?? true,
    },
    attestation: withCertificateInfo(withSymmetricKeys(enrollment.attestation), kind, previous),
  };
}

function checkPathId(pathId: string | undefined, bodyId: string, field: string): void {
  if (pathId !== undefined && pathId.toLowerCase() !== bodyId.toLowerCase()) {
    throw badRequest(`${field} '${bodyId.slice(0, 140)}' in the body does not match the id in the URL`);
  }
}

/** Validates and completes an enrollment group written by a client (body of PUT /enrollmentGroups/{id}). */
export function prepareEnrollmentGroup(
  body: unknown,
  pathId: string | undefined,
  linkedHubs: readonly LinkedHub[],
  stored?: StoredAttestationLookup,
): EnrollmentGroup {
  const group = parseWith(enrollmentGroupSchema, body, 'enrollment group');
  assertValidId(group.enrollmentGroupId, 'enrollmentGroupId');
  checkPathId(pathId, group.enrollmentGroupId, 'enrollmentGroupId');
  validateAllocation(group, linkedHubs);
  return withDefaults(group, 'group', stored?.(group.enrollmentGroupId));
}

/** Validates and completes an individual enrollment written by a client (body of PUT /enrollments/{id}). */
export function prepareIndividualEnrollment(
  body: unknown,
  pathId: string | undefined,
  linkedHubs: readonly LinkedHub[],
  stored?: StoredAttestationLookup,
): IndividualEnrollment {
  const enrollment = parseWith(individualEnrollmentSchema, body, 'individual enrollment');
  assertValidId(enrollment.registrationId, 'registrationId');
  checkPathId(pathId, enrollment.registrationId, 'registrationId');
  validateAllocation(enrollment, linkedHubs);
  return withDefaults(enrollment, 'individual', stored?.(enrollment.registrationId));
}

/** Attestation as GET/query return it: symmetric keys left out, certificates described by their info. */
function attestationWithoutKeys(attestation: AttestationMechanism): AttestationMechanism {
  if (attestation.type !== 'symmetricKey') return presentedX509(attestation);
  return { type: 'symmetricKey' };
}

/** The wire shape of a stored enrollment; keys only when asked (PUT answers, attestationmechanism). */
export function presentEnrollment<T extends Enrollment>(
  stored: StoredEnrollment<T>,
  options: { includeKeys: boolean; extra?: Record<string, unknown> },
): Record<string, unknown> {
  const value = stored.value;
  return {
    ...value,
    ...options.extra,
    attestation: options.includeKeys
      ? presentedX509(value.attestation)
      : attestationWithoutKeys(value.attestation),
    etag: formatEtag(stored.sequence),
    createdDateTimeUtc: new Date(stored.createdMs).toISOString(),
    lastUpdatedDateTimeUtc: new Date(stored.updatedMs).toISOString(),
  };
}

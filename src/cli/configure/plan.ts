// Pure planning of the configure command: the enrollment read from DPS (or none) and the wanted custom
// allocation -> the enrollment to write and a display-safe list of the changed fields. No I/O.
import type { EnrollmentGroup, IndividualEnrollment, ReprovisionPolicy } from '../../dps/schemas';
import { ConfigureError } from './errors';
import { maskWebhookUrl, sameWebhookUrl } from './webhook-url';

export type EnrollmentKind = 'enrollmentGroup' | 'individualEnrollment';

export interface EnrollmentTarget {
  kind: EnrollmentKind;
  /** Enrollment group id or individual enrollment registration id. */
  id: string;
}

export type Enrollment = EnrollmentGroup | IndividualEnrollment;

/** The `customAllocationDefinition` wanted on the enrollment (docs/dps-contract.md §1.1, §1.5). */
export interface CustomAllocation {
  /** Full URL, function key included. */
  webhookUrl: string;
  apiVersion: string;
}

export type ReprovisionChoice = 'migrate' | 'reset' | 'never';

/** DPS's three reprovisioning policies as the service API spells them (docs/dps-contract.md §2.3). */
export const REPROVISION_POLICIES: Readonly<Record<ReprovisionChoice, Required<ReprovisionPolicy>>> = {
  migrate: { updateHubAssignment: true, migrateDeviceData: true },
  reset: { updateHubAssignment: true, migrateDeviceData: false },
  never: { updateHubAssignment: false, migrateDeviceData: true },
};

/** What a created enrollment gets besides the custom allocation. */
export interface CreateSpec {
  /** Only symmetric keys can be created without certificates or a TPM. */
  attestation: 'symmetricKey';
  /** Without keys, DPS generates both. */
  primaryKey?: string;
  secondaryKey?: string;
  /** The hubs the enrollment may assign to (`iotHubs`); DPS offers every linked hub when absent. */
  iotHubs?: string[];
  iotEdge?: boolean;
  reprovision?: ReprovisionChoice;
}

/** One changed field, safe to print: webhook keys masked, attestation keys never included. */
export interface FieldChange {
  field: string;
  before: string | undefined;
  after: string | undefined;
  /** Why a change that looks the same after masking is one (the function key differs). */
  note?: string;
}

export type PlanAction = 'create' | 'update' | 'unchanged';

export interface EnrollmentPlan {
  target: EnrollmentTarget;
  action: PlanAction;
  /**
   * The body to PUT (undefined when unchanged). It holds the function key and, on create, any symmetric keys
   * given: never print it.
   */
  enrollment: Enrollment | undefined;
  /** The changed fields, display-safe. */
  changes: FieldChange[];
  /** Etag of the enrollment read: the `If-Match` of the write. Undefined on create. */
  etag: string | undefined;
}

/** Fields DPS manages: sent back, they are at best ignored, so the written body leaves them out. */
const READ_ONLY_FIELDS = ['createdDateTimeUtc', 'lastUpdatedDateTimeUtc', 'registrationState'] as const;

export function describeTarget(target: EnrollmentTarget): string {
  const kind = target.kind === 'enrollmentGroup' ? 'enrollment group' : 'individual enrollment';
  return `${kind} '${target.id}'`;
}

function idOf(target: EnrollmentTarget, enrollment: Enrollment): string {
  return target.kind === 'enrollmentGroup'
    ? (enrollment as EnrollmentGroup).enrollmentGroupId
    : (enrollment as IndividualEnrollment).registrationId;
}

function allocationChanges(current: Enrollment | undefined, wanted: CustomAllocation): FieldChange[] {
  const changes: FieldChange[] = [];
  const policy = current?.allocationPolicy ?? undefined;
  if (policy !== 'custom') changes.push({ field: 'allocationPolicy', before: policy, after: 'custom' });

  const definition = current?.customAllocationDefinition ?? undefined;
  const currentUrl = definition?.webhookUrl;
  if (currentUrl === undefined || !sameWebhookUrl(currentUrl, wanted.webhookUrl)) {
    const before = currentUrl === undefined ? undefined : maskWebhookUrl(currentUrl);
    const after = maskWebhookUrl(wanted.webhookUrl);
    const change: FieldChange = { field: 'customAllocationDefinition.webhookUrl', before, after };
    if (before === after) change.note = 'the function key differs';
    changes.push(change);
  }
  if (definition?.apiVersion !== wanted.apiVersion) {
    changes.push({
      field: 'customAllocationDefinition.apiVersion',
      before: definition?.apiVersion,
      after: wanted.apiVersion,
    });
  }
  return changes;
}

/** The enrollment read, changed only in `allocationPolicy` and `customAllocationDefinition`. */
function updatedEnrollment(current: Enrollment, wanted: CustomAllocation): Enrollment {
  const next = structuredClone(current) as Record<string, unknown>;
  for (const field of READ_ONLY_FIELDS) delete next[field];
  next.allocationPolicy = 'custom';
  next.customAllocationDefinition = {
    ...current.customAllocationDefinition,
    webhookUrl: wanted.webhookUrl,
    apiVersion: wanted.apiVersion,
  };
  return next as Enrollment;
}

function createdEnrollment(target: EnrollmentTarget, wanted: CustomAllocation, spec: CreateSpec): Enrollment {
  const symmetricKey: { primaryKey?: string; secondaryKey?: string } = {};
  if (spec.primaryKey !== undefined) symmetricKey.primaryKey = spec.primaryKey;
  if (spec.secondaryKey !== undefined) symmetricKey.secondaryKey = spec.secondaryKey;
  const common = {
    attestation: { type: spec.attestation, symmetricKey },
    capabilities: { iotEdge: spec.iotEdge ?? false },
    provisioningStatus: 'enabled' as const,
    allocationPolicy: 'custom' as const,
    customAllocationDefinition: { webhookUrl: wanted.webhookUrl, apiVersion: wanted.apiVersion },
    ...(spec.iotHubs === undefined ? {} : { iotHubs: [...spec.iotHubs] }),
    ...(spec.reprovision === undefined
      ? {}
      : { reprovisionPolicy: { ...REPROVISION_POLICIES[spec.reprovision] } }),
  };
  return target.kind === 'enrollmentGroup'
    ? { enrollmentGroupId: target.id, ...common }
    : { registrationId: target.id, ...common };
}

function creationChanges(wanted: CustomAllocation, spec: CreateSpec): FieldChange[] {
  const keys =
    spec.primaryKey !== undefined || spec.secondaryKey !== undefined ? 'given' : 'generated by DPS';
  const changes: FieldChange[] = [
    { field: 'attestation.type', before: undefined, after: `${spec.attestation} (keys ${keys})` },
    {
      field: 'iotHubs',
      before: undefined,
      after: spec.iotHubs === undefined ? '(every hub linked to the DPS)' : spec.iotHubs.join(', '),
    },
    { field: 'capabilities.iotEdge', before: undefined, after: String(spec.iotEdge ?? false) },
    { field: 'provisioningStatus', before: undefined, after: 'enabled' },
  ];
  if (spec.reprovision !== undefined) {
    const policy = REPROVISION_POLICIES[spec.reprovision];
    changes.push({
      field: 'reprovisionPolicy',
      before: undefined,
      after:
        `${spec.reprovision} (updateHubAssignment: ${policy.updateHubAssignment}, ` +
        `migrateDeviceData: ${policy.migrateDeviceData})`,
    });
  }
  return [...changes, ...allocationChanges(undefined, wanted)];
}

/**
 * Plans one enrollment. `current` is what DPS returned (undefined: it does not exist). A missing enrollment is
 * created only with a CreateSpec; otherwise it is a ConfigureError that suggests `--create`.
 */
export function planEnrollment(
  target: EnrollmentTarget,
  current: Enrollment | undefined,
  wanted: CustomAllocation,
  create?: CreateSpec,
): EnrollmentPlan {
  if (current === undefined) {
    if (create === undefined) {
      throw new ConfigureError(
        `${describeTarget(target)} does not exist; add --create to create it (with --linked-hubs, --iot-edge, ` +
          '--reprovision-policy as needed)',
      );
    }
    return {
      target,
      action: 'create',
      enrollment: createdEnrollment(target, wanted, create),
      changes: creationChanges(wanted, create),
      etag: undefined,
    };
  }
  if (idOf(target, current).toLowerCase() !== target.id.toLowerCase()) {
    throw new ConfigureError(`DPS answered a different enrollment for ${describeTarget(target)}`);
  }
  const changes = allocationChanges(current, wanted);
  const etag = current.etag ?? undefined;
  if (changes.length === 0) return { target, action: 'unchanged', enrollment: undefined, changes, etag };
  return { target, action: 'update', enrollment: updatedEnrollment(current, wanted), changes, etag };
}

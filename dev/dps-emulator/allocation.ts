// DPS's own allocation rules, pure: which hubs an enrollment may use (docs/dps-contract.md §1.2 linkedHubs),
// the built-in `hashed` and `static` policies, and what the reprovision policy means for a device that is
// already assigned (substatus, whether the hub may change, whether an initial twin applies).
import type { EnrollmentGroup, IndividualEnrollment, InitialTwin } from '../../src/dps/schemas';
import { hashToUnit } from './rng';
import type { RegistrationSubstatus } from './store';

export interface LinkedHub {
  hostName: string;
  /** 1-1000, default 1: the share of `hashed` allocations this hub receives. */
  allocationWeight?: number;
  /** Default true; false = never chosen by a policy over all linked hubs, still usable when an enrollment names it. */
  applyAllocationPolicy?: boolean;
}

type Enrollment = EnrollmentGroup | IndividualEnrollment;

/** How allocating a registration ends, by any policy (the custom webhook's answer included). */
export type AllocationResult =
  | {
      kind: 'assigned';
      hub: string;
      initialTwin: InitialTwin | undefined;
      payload: Record<string, unknown> | undefined;
    }
  | { kind: 'failed'; errorCode: number; errorMessage: string };

export interface ReprovisionSettings {
  updateHubAssignment: boolean;
  migrateDeviceData: boolean;
}

/** Both default to true (service.json ReprovisionPolicy). */
export function reprovisionSettingsOf(enrollment: Enrollment): ReprovisionSettings {
  return {
    updateHubAssignment: enrollment.reprovisionPolicy?.updateHubAssignment ?? true,
    migrateDeviceData: enrollment.reprovisionPolicy?.migrateDeviceData ?? true,
  };
}

export function sameHub(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** The hubs an enrollment selects, or undefined when it selects none (then every linked hub applies). */
function selectedHubs(enrollment: Enrollment): string[] | undefined {
  if (enrollment.iotHubs && enrollment.iotHubs.length > 0) return [...enrollment.iotHubs];
  if (enrollment.iotHubHostName) return [enrollment.iotHubHostName];
  return undefined;
}

/** `linkedHubs` as DPS sends it to a custom allocation webhook. */
export function webhookLinkedHubs(
  enrollment: Enrollment,
  linkedHubs: readonly LinkedHub[],
  currentHub: string | undefined,
): string[] {
  if (currentHub !== undefined && !reprovisionSettingsOf(enrollment).updateHubAssignment) return [currentHub];
  return selectedHubs(enrollment) ?? linkedHubs.map((hub) => hub.hostName);
}

/** `hashed`: a weighted hash of the lower-cased registration id over the candidate hubs. */
export function hashedHub(
  registrationId: string,
  enrollment: Enrollment,
  linkedHubs: readonly LinkedHub[],
): string | undefined {
  return hashedHubPicker(enrollment, linkedHubs)(registrationId);
}

/** The `hashed` choice for many devices of one enrollment (seeding): candidates and weights computed once. */
export function hashedHubPicker(
  enrollment: Enrollment,
  linkedHubs: readonly LinkedHub[],
): (registrationId: string) => string | undefined {
  const selected = selectedHubs(enrollment);
  const candidates = selected
    ? selected.map((hostName) => ({
        hostName,
        weight: linkedHubs.find((hub) => sameHub(hub.hostName, hostName))?.allocationWeight ?? 1,
      }))
    : linkedHubs
        .filter((hub) => hub.applyAllocationPolicy !== false)
        .map((hub) => ({ hostName: hub.hostName, weight: hub.allocationWeight ?? 1 }));
  const weighted = candidates.filter((hub) => hub.weight > 0);
  const total = weighted.reduce((sum, hub) => sum + hub.weight, 0);
  if (weighted.length === 0) return () => undefined;
  return (registrationId) => {
    let point = hashToUnit(registrationId.toLowerCase()) * total;
    for (const hub of weighted) {
      point -= hub.weight;
      if (point < 0) return hub.hostName;
    }
    return weighted[weighted.length - 1]!.hostName;
  };
}

/** `static`: the one hub the enrollment names. */
export function staticHub(enrollment: Enrollment): string | undefined {
  return selectedHubs(enrollment)?.[0];
}

export interface PreviousAssignment {
  assignedHub: string | undefined;
  initialHub: string | undefined;
  substatus: RegistrationSubstatus | undefined;
}

/** The substatus of an assignment to `newHub`, given where the device was before. */
export function assignmentSubstatus(
  previous: PreviousAssignment | undefined,
  newHub: string,
  settings: ReprovisionSettings,
): RegistrationSubstatus {
  if (previous?.assignedHub === undefined) return 'initialAssignment';
  if (sameHub(previous.assignedHub, newHub)) return previous.substatus ?? 'initialAssignment';
  if (sameHub(previous.initialHub, newHub)) return 'reprovisionedToInitialAssignment';
  return settings.migrateDeviceData ? 'deviceDataMigrated' : 'deviceDataReset';
}

/**
 * Whether DPS writes an initial twin: on the initial assignment, and on a hub change under "reprovision
 * and reset to initial config" (migrateDeviceData false) (docs/dps-contract.md §1.3).
 */
export function initialTwinApplies(
  previousHub: string | undefined,
  newHub: string,
  settings: ReprovisionSettings,
): boolean {
  if (previousHub === undefined) return true;
  return !sameHub(previousHub, newHub) && !settings.migrateDeviceData;
}

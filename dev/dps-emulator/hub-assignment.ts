// What DPS does to the IoT hubs once it has assigned a device (docs/dps-contract.md §9.1): on the initial assignment
// it creates the device identity in the hub with the initial twin; when the device moves (another hub, or another
// device id) the new identity gets the old one's twin ("migrate data") or the initial twin ("reset to initial
// config") and the old identity leaves its hub; a device that stays keeps its identity and twin. Whether an initial
// twin applies is allocation.ts initialTwinApplies's call, made before this runs.
import type { InitialTwin } from '../../src/dps/schemas';
import type { HubRegistry, IdentityAuthentication, IotHubs } from '../iot-hub-emulator';
import type { ReprovisionSettings } from './allocation';
import { sameHub } from './allocation';

export interface HubAssignment {
  /** Where the device was (undefined: never assigned). */
  previous: { hub: string | undefined; deviceId: string | undefined };
  hub: string;
  deviceId: string;
  settings: ReprovisionSettings;
  /** DPS writes the initial twin at this assignment (initialTwinApplies). */
  writesInitialTwin: boolean;
  /** The registration's initial twin: the one written at the last assignment that applied one. */
  initialTwin: InitialTwin | undefined;
  authentication: IdentityAuthentication;
  /** The enrollment's `capabilities.iotEdge`. */
  iotEdge: boolean;
}

function collectionsOf(twin: InitialTwin | undefined) {
  return { tags: twin?.tags ?? undefined, desired: twin?.properties?.desired ?? undefined };
}

export function applyAssignmentToHubs(hubs: IotHubs, assignment: HubAssignment): void {
  const { previous, hub, deviceId } = assignment;
  hubs.ensure([hub]);
  const target = hubs.registry(hub);
  const stays = sameHub(previous.hub, hub) && previous.deviceId === deviceId;
  if (previous.hub === undefined || stays) {
    provisionInPlace(target, assignment, previous.hub === undefined);
    return;
  }
  const source = hubs.find(previous.hub)?.registry;
  const sourceData = previous.deviceId === undefined ? undefined : source?.stateDataOf(previous.deviceId);
  const migrate = assignment.settings.migrateDeviceData;
  target.provisionIdentity(
    deviceId,
    assignment.authentication,
    migrate && sourceData ? sourceData.iotEdge : assignment.iotEdge,
  );
  target.writeTwinCollections(
    deviceId,
    migrate
      ? { tags: sourceData?.tags, desired: sourceData?.desired }
      : collectionsOf(assignment.initialTwin),
  );
  if (source && previous.deviceId !== undefined) source.deleteDevice(previous.deviceId);
}

/**
 * The initial assignment, or a re-registration that stays: the identity is created (enabled) or its authentication
 * written again; its status is left alone. The initial twin is written to a new identity, and over an existing one
 * only when it applies (an initial assignment to a hub that already has the device id).
 */
function provisionInPlace(target: HubRegistry, assignment: HubAssignment, initial: boolean): void {
  const iotEdge = initial || !target.has(assignment.deviceId) ? assignment.iotEdge : undefined;
  const created = target.provisionIdentity(assignment.deviceId, assignment.authentication, iotEdge);
  const twin = assignment.initialTwin;
  if (twin && (created || assignment.writesInitialTwin)) {
    target.writeTwinCollections(assignment.deviceId, collectionsOf(twin));
  }
}

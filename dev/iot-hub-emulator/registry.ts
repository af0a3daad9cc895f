// The identity registry of one emulated IoT hub: devices with their twins' tags and desired properties, the
// registry statistics kept as counters (O(1), however many devices), id order kept in a sorted key set for paged
// queries, and every write taking a new sequence number, from which etags are derived.
import { randomBytes } from 'node:crypto';
import { hmacSha256Base64 } from '../../src/dps/sas';
import { SortedKeySet } from '../dps-emulator/sorted-keys';
import type { HubDeviceSnapshot } from './device-record';
import { HubDevice, restoreDevice, snapshotDevice } from './device-record';
import type { IdentityWrite } from './device-input';
import { parseIdentityWrite } from './device-input';
import { deviceNotFound, HubErrorCodes, HubHttpError, hubPreconditionFailed } from './errors';
import { assertValidDeviceId, deviceEtag, ifMatchAccepts, twinEtag } from './identifiers';
import type { DeviceIdentityJson, DeviceTwinJson, SymmetricKeys } from './presentation';
import { presentDevice, presentTwin } from './presentation';
import type { TwinCollection, TwinWrite } from './twin-collections';
import { assertTwinCollection, copyCollection, mergeTwinPatch, parseTwinBody } from './twin-collections';

/** `GET /statistics/devices` (Statistics - Get Device Statistics). */
export interface RegistryStatistics {
  totalDeviceCount: number;
  enabledDeviceCount: number;
  disabledDeviceCount: number;
}

export interface HubRegistrySnapshot {
  sequence: number;
  /** Derives the keys of seeded devices. */
  keySeed: string;
  devices: HubDeviceSnapshot[];
}

/** The authentication DPS writes to a device identity (identity-write fields, status left out). */
export type IdentityAuthentication = Pick<
  IdentityWrite,
  'authenticationType' | 'primaryKey' | 'secondaryKey' | 'primaryThumbprint' | 'secondaryThumbprint'
>;

/** What DPS reads of a device it migrates: the twin's tags and desired properties, and its capabilities. */
export interface DeviceStateData {
  tags: TwinCollection | undefined;
  desired: TwinCollection | undefined;
  iotEdge: boolean;
}

const SEED_LIMIT = 1_000_000;

function newSymmetricKey(): string {
  return randomBytes(32).toString('base64');
}

export class HubRegistry {
  private readonly devices = new Map<string, HubDevice>();
  private readonly order = new SortedKeySet();
  private enabled = 0;
  private sequence = 0;
  private readonly keySeed: string;

  constructor(
    /** The hub's host name as first written, e.g. `contoso-hub-1.azure-devices.net`. */
    readonly hostName: string,
    private readonly changed: () => void = () => undefined,
    private readonly now: () => number = Date.now,
    saved?: HubRegistrySnapshot,
  ) {
    this.keySeed = saved?.keySeed ?? newSymmetricKey();
    if (saved) this.restore(saved);
  }

  get size(): number {
    return this.devices.size;
  }

  statistics(): RegistryStatistics {
    return {
      totalDeviceCount: this.devices.size,
      enabledDeviceCount: this.enabled,
      disabledDeviceCount: this.devices.size - this.enabled,
    };
  }

  has(deviceId: string): boolean {
    return this.devices.has(deviceId);
  }

  getDevice(deviceId: string): DeviceIdentityJson | undefined {
    const device = this.devices.get(deviceId);
    return device && presentDevice(device, this.keysOf(device));
  }

  getTwin(deviceId: string): DeviceTwinJson | undefined {
    const device = this.devices.get(deviceId);
    return device && presentTwin(device);
  }

  /** Every device identity, in device id order. */
  list(limit = Number.MAX_SAFE_INTEGER): DeviceIdentityJson[] {
    return this.order.page(undefined, limit).keys.map((id) => {
      const device = this.devices.get(id)!;
      return presentDevice(device, this.keysOf(device));
    });
  }

  /** Up to `limit` twins after device id `afterDeviceId`, in id order (`SELECT * FROM devices`). */
  pageTwins(afterDeviceId: string | undefined, limit: number): { twins: DeviceTwinJson[]; hasMore: boolean } {
    const page = this.order.page(afterDeviceId, limit);
    return { twins: page.keys.map((id) => presentTwin(this.devices.get(id)!)), hasMore: page.hasMore };
  }

  /**
   * Creates (no `ifMatch`) or updates (`ifMatch` an etag or `*`) a device, as PUT /devices/{id} does: 409 when
   * creating one that exists, 404 when updating one that does not, 412 when the etag does not match.
   */
  putDevice(device: { deviceId: string } & Record<string, unknown>, ifMatch?: string): DeviceIdentityJson {
    return this.writeIdentity(device.deviceId, parseIdentityWrite(device, device.deviceId), ifMatch);
  }

  writeIdentity(deviceId: string, write: IdentityWrite, ifMatch?: string): DeviceIdentityJson {
    assertValidDeviceId(deviceId);
    const existing = this.devices.get(deviceId);
    let device: HubDevice;
    if (ifMatch === undefined) {
      if (existing) {
        throw new HubHttpError(
          409,
          HubErrorCodes.deviceAlreadyExists,
          `A device with ID '${deviceId}' is already registered.`,
        );
      }
      device = this.create(deviceId);
    } else {
      if (!existing) throw deviceNotFound(deviceId);
      if (!ifMatchAccepts(ifMatch, deviceEtag(existing.sequence))) {
        throw hubPreconditionFailed(`Device '${deviceId}': the etag does not match`);
      }
      device = existing;
    }
    this.setStatus(device, write.status);
    device.statusReason = write.statusReason;
    this.setAuthentication(device, write, existing === undefined);
    device.iotEdge = write.iotEdge;
    this.touch(device);
    return presentDevice(device, this.keysOf(device));
  }

  /** Deletes a device and its twin; false when there is none. */
  deleteDevice(deviceId: string, ifMatch?: string): boolean {
    const device = this.devices.get(deviceId);
    if (!device) return false;
    if (ifMatch !== undefined && !ifMatchAccepts(ifMatch, deviceEtag(device.sequence))) {
      throw hubPreconditionFailed(`Device '${deviceId}': the etag does not match`);
    }
    this.devices.delete(deviceId);
    this.order.delete(deviceId);
    if (device.status === 'enabled') this.enabled -= 1;
    this.changed();
    return true;
  }

  /** PATCH /twins/{id}: merges tags and desired properties (null removes a key). */
  updateTwin(deviceId: string, patch: unknown, ifMatch?: string): DeviceTwinJson {
    const device = this.twinTarget(deviceId, ifMatch);
    const write = parseTwinBody(patch);
    const tags = write.tags ? mergeTwinPatch(device.tags, write.tags) : device.tags;
    const desired = write.desired ? mergeTwinPatch(device.desired, write.desired) : device.desired;
    assertTwinCollection(tags, 'tags');
    assertTwinCollection(desired, 'desired');
    this.setTwin(device, { tags, desired }, write.desired !== undefined);
    return presentTwin(device);
  }

  /** PUT /twins/{id}: replaces tags and desired properties. */
  replaceTwin(deviceId: string, twin: unknown, ifMatch?: string): DeviceTwinJson {
    const device = this.twinTarget(deviceId, ifMatch);
    const write = parseTwinBody(twin);
    assertTwinCollection(write.tags, 'tags');
    assertTwinCollection(write.desired, 'desired');
    this.setTwin(device, { tags: copyCollection(write.tags), desired: copyCollection(write.desired) }, true);
    return presentTwin(device);
  }

  /**
   * Adds `count` enabled `sas` devices `${prefix}00001`... in one go (tests and benchmarks pre-filling a hub);
   * ids that exist already are left alone. Their keys are derived from the hub's key seed when read.
   */
  seedDevices(count: number, prefix = 'seed-device-'): { added: number } {
    if (!Number.isInteger(count) || count < 0 || count > SEED_LIMIT) {
      throw new RangeError(`seedDevices: count must be an integer from 0 to ${SEED_LIMIT}`);
    }
    const width = Math.max(5, String(count).length);
    if (count > 0) assertValidDeviceId(`${prefix}${'1'.padStart(width, '0')}`);
    const nowMs = this.now();
    const added: string[] = [];
    for (let index = 1; index <= count; index++) {
      const deviceId = `${prefix}${String(index).padStart(width, '0')}`;
      if (this.devices.has(deviceId)) continue;
      this.sequence += 1;
      const device = new HubDevice(deviceId, nowMs, this.sequence);
      this.devices.set(deviceId, device);
      added.push(deviceId);
    }
    this.order.addMany(added);
    this.enabled += added.length;
    if (added.length > 0) this.changed();
    return { added: added.length };
  }

  // ---- what DPS does to the hub (dev/dps-emulator/hub-assignment.ts) -------------------------------------

  /** Creates the device (enabled) or updates its authentication; status and twin are left alone. */
  provisionIdentity(deviceId: string, authentication: IdentityAuthentication, iotEdge?: boolean): boolean {
    assertValidDeviceId(deviceId);
    const existing = this.devices.get(deviceId);
    const device = existing ?? this.create(deviceId);
    this.setAuthentication(device, authentication, existing === undefined);
    if (iotEdge !== undefined) device.iotEdge = iotEdge;
    this.touch(device);
    return existing === undefined;
  }

  /** Replaces the twin's tags and desired properties, unchecked (DPS writes what the enrollment holds). */
  writeTwinCollections(deviceId: string, write: TwinWrite): void {
    const device = this.devices.get(deviceId);
    if (!device) throw deviceNotFound(deviceId);
    this.setTwin(device, { tags: copyCollection(write.tags), desired: copyCollection(write.desired) }, true);
  }

  stateDataOf(deviceId: string): DeviceStateData | undefined {
    const device = this.devices.get(deviceId);
    if (!device) return undefined;
    return {
      tags: copyCollection(device.tags),
      desired: copyCollection(device.desired),
      iotEdge: device.iotEdge,
    };
  }

  // ---- persistence ----------------------------------------------------------------------------------------

  snapshot(): HubRegistrySnapshot {
    return {
      sequence: this.sequence,
      keySeed: this.keySeed,
      devices: [...this.devices.values()].map(snapshotDevice),
    };
  }

  private restore(saved: HubRegistrySnapshot): void {
    const ids: string[] = [];
    for (const entry of saved.devices) {
      const device = restoreDevice(entry);
      this.devices.set(device.deviceId, device);
      ids.push(device.deviceId);
      if (device.status === 'enabled') this.enabled += 1;
      this.sequence = Math.max(this.sequence, device.sequence, device.twinSequence);
    }
    this.order.addMany(ids);
    this.sequence = Math.max(this.sequence, saved.sequence);
  }

  // ---- internals ------------------------------------------------------------------------------------------

  private create(deviceId: string): HubDevice {
    const nowMs = this.now();
    this.sequence += 1;
    const device = new HubDevice(deviceId, nowMs, this.sequence);
    this.devices.set(deviceId, device);
    this.order.add(deviceId);
    this.enabled += 1;
    return device;
  }

  private touch(device: HubDevice): void {
    this.sequence += 1;
    device.sequence = this.sequence;
    device.updatedMs = this.now();
    this.changed();
  }

  private setStatus(device: HubDevice, status: HubDevice['status']): void {
    if (device.status === status) return;
    this.enabled += status === 'enabled' ? 1 : -1;
    device.status = status;
    device.statusUpdatedMs = this.now();
  }

  private setAuthentication(device: HubDevice, write: IdentityAuthentication, created: boolean): void {
    const wasSas = device.authenticationType === 'sas';
    device.authenticationType = write.authenticationType;
    if (write.authenticationType === 'sas') {
      // Keys left out of an update keep the device's keys (emulator choice: docs/dps-contract.md §9.3).
      const keep = !created && wasSas && write.primaryKey === undefined && write.secondaryKey === undefined;
      if (!keep) {
        device.primaryKey = write.primaryKey ?? newSymmetricKey();
        device.secondaryKey = write.secondaryKey ?? newSymmetricKey();
      }
    } else {
      device.primaryKey = undefined;
      device.secondaryKey = undefined;
    }
    const selfSigned = write.authenticationType === 'selfSigned';
    device.primaryThumbprint = selfSigned ? write.primaryThumbprint : undefined;
    device.secondaryThumbprint = selfSigned ? write.secondaryThumbprint : undefined;
  }

  private twinTarget(deviceId: string, ifMatch: string | undefined): HubDevice {
    const device = this.devices.get(deviceId);
    if (!device) throw deviceNotFound(deviceId);
    if (ifMatch !== undefined && !ifMatchAccepts(ifMatch, twinEtag(device.twinSequence))) {
      throw hubPreconditionFailed(`The twin of device '${deviceId}': the etag does not match`);
    }
    return device;
  }

  private setTwin(device: HubDevice, write: TwinWrite, desiredWritten: boolean): void {
    const nowMs = this.now();
    device.tags = write.tags;
    device.desired = write.desired;
    if (desiredWritten) {
      device.desiredVersion += 1;
      device.desiredUpdatedMs = nowMs;
    }
    device.twinVersion += 1;
    this.sequence += 1;
    device.twinSequence = this.sequence;
    this.changed();
  }

  private keysOf(device: HubDevice): SymmetricKeys {
    if (device.authenticationType !== 'sas') return { primaryKey: null, secondaryKey: null };
    return {
      primaryKey: device.primaryKey ?? hmacSha256Base64(this.keySeed, `${device.deviceId}/primary`),
      secondaryKey: device.secondaryKey ?? hmacSha256Base64(this.keySeed, `${device.deviceId}/secondary`),
    };
  }
}

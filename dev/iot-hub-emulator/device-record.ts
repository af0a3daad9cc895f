// One device of an emulated hub's identity registry, with its twin's tags and desired properties. A class, so that
// the many devices of a pre-filled hub share one hidden class and stay compact; seeded devices carry no keys
// (the registry derives them when asked).
import { generationIdOf } from './identifiers';
import type { TwinCollection } from './twin-collections';

export const AUTHENTICATION_TYPES = ['sas', 'selfSigned', 'certificateAuthority', 'none'] as const;
export type HubAuthenticationType = (typeof AUTHENTICATION_TYPES)[number];
export type HubDeviceStatus = 'enabled' | 'disabled';

/** The authentication of a device identity (the REST type AuthenticationMechanism). */
export interface HubAuthentication {
  type: HubAuthenticationType;
  symmetricKey?: { primaryKey: string | null; secondaryKey: string | null };
  x509Thumbprint?: { primaryThumbprint: string | null; secondaryThumbprint: string | null };
}

export class HubDevice {
  status: HubDeviceStatus = 'enabled';
  statusReason: string | undefined = undefined;
  statusUpdatedMs: number | undefined = undefined;
  authenticationType: HubAuthenticationType = 'sas';
  /** Undefined on a `sas` device: keys derived from the hub's key seed (seeded devices). */
  primaryKey: string | undefined = undefined;
  secondaryKey: string | undefined = undefined;
  primaryThumbprint: string | undefined = undefined;
  secondaryThumbprint: string | undefined = undefined;
  iotEdge = false;
  tags: TwinCollection | undefined = undefined;
  desired: TwinCollection | undefined = undefined;
  desiredVersion = 1;
  desiredUpdatedMs: number;
  twinVersion = 1;
  /** Write counters (the registry's), from which the device and twin etags are derived. */
  sequence: number;
  twinSequence: number;
  updatedMs: number;

  constructor(
    readonly deviceId: string,
    readonly createdMs: number,
    /** The registry's sequence number at creation: with the time, the generation id. */
    readonly createdSequence: number,
  ) {
    this.sequence = createdSequence;
    this.twinSequence = createdSequence;
    this.updatedMs = createdMs;
    this.desiredUpdatedMs = createdMs;
  }

  /** Computed when asked: a pre-filled hub holds many devices whose generation id nobody reads. */
  get generationId(): string {
    return generationIdOf(this.createdMs, this.createdSequence);
  }
}

/** A device as the data file keeps it: fields at their default (a seeded device's) are left out. */
export interface HubDeviceSnapshot {
  deviceId: string;
  createdMs: number;
  createdSequence: number;
  updatedMs?: number;
  sequence?: number;
  twinSequence?: number;
  status?: HubDeviceStatus;
  statusReason?: string;
  statusUpdatedMs?: number;
  authenticationType?: HubAuthenticationType;
  primaryKey?: string;
  secondaryKey?: string;
  primaryThumbprint?: string;
  secondaryThumbprint?: string;
  iotEdge?: boolean;
  tags?: TwinCollection;
  desired?: TwinCollection;
  desiredVersion?: number;
  desiredUpdatedMs?: number;
  twinVersion?: number;
}

const unlessEqual = <T>(value: T, fallback: T): T | undefined => (value === fallback ? undefined : value);

export function snapshotDevice(device: HubDevice): HubDeviceSnapshot {
  return {
    deviceId: device.deviceId,
    createdMs: device.createdMs,
    createdSequence: device.createdSequence,
    updatedMs: unlessEqual(device.updatedMs, device.createdMs),
    sequence: unlessEqual(device.sequence, device.createdSequence),
    twinSequence: unlessEqual(device.twinSequence, device.createdSequence),
    status: unlessEqual(device.status, 'enabled'),
    statusReason: device.statusReason,
    statusUpdatedMs: device.statusUpdatedMs,
    authenticationType: unlessEqual(device.authenticationType, 'sas'),
    primaryKey: device.primaryKey,
    secondaryKey: device.secondaryKey,
    primaryThumbprint: device.primaryThumbprint,
    secondaryThumbprint: device.secondaryThumbprint,
    iotEdge: unlessEqual(device.iotEdge, false),
    tags: device.tags,
    desired: device.desired,
    desiredVersion: unlessEqual(device.desiredVersion, 1),
    desiredUpdatedMs: unlessEqual(device.desiredUpdatedMs, device.createdMs),
    twinVersion: unlessEqual(device.twinVersion, 1),
  };
}

export function restoreDevice(saved: HubDeviceSnapshot): HubDevice {
  const device = new HubDevice(saved.deviceId, saved.createdMs, saved.createdSequence);
  device.updatedMs = saved.updatedMs ?? saved.createdMs;
  device.sequence = saved.sequence ?? saved.createdSequence;
  device.twinSequence = saved.twinSequence ?? saved.createdSequence;
  device.status = saved.status ?? 'enabled';
  device.statusReason = saved.statusReason;
  device.statusUpdatedMs = saved.statusUpdatedMs;
  device.authenticationType = saved.authenticationType ?? 'sas';
  device.primaryKey = saved.primaryKey;
  device.secondaryKey = saved.secondaryKey;
  device.primaryThumbprint = saved.primaryThumbprint;
  device.secondaryThumbprint = saved.secondaryThumbprint;
  device.iotEdge = saved.iotEdge ?? false;
  device.tags = saved.tags;
  device.desired = saved.desired;
  device.desiredVersion = saved.desiredVersion ?? 1;
  device.desiredUpdatedMs = saved.desiredUpdatedMs ?? saved.createdMs;
  device.twinVersion = saved.twinVersion ?? 1;
  return device;
}

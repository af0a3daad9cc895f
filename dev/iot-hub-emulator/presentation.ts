// The wire shapes of the IoT Hub service API, api-version 2021-04-12: Device (Devices - Get Identity) and Twin
// (Devices - Get Twin), https://learn.microsoft.com/rest/api/iothub/service/devices. Connection state, activity
// and cloud-to-device messages are not emulated: every device is `Disconnected`, never active.
import type { HubDevice } from './device-record';
import { deviceEtag, twinEtag } from './identifiers';
import type { TwinCollection } from './twin-collections';

/** The time IoT Hub writes for "never" (.NET's DateTime.MinValue). */
const NEVER = '0001-01-01T00:00:00Z';

export interface SymmetricKeys {
  primaryKey: string | null;
  secondaryKey: string | null;
}

export interface DeviceIdentityJson {
  deviceId: string;
  generationId: string;
  etag: string;
  connectionState: 'Disconnected';
  status: 'enabled' | 'disabled';
  statusReason: string | null;
  connectionStateUpdatedTime: string;
  statusUpdatedTime: string;
  lastActivityTime: string;
  cloudToDeviceMessageCount: number;
  authentication: {
    symmetricKey: SymmetricKeys;
    x509Thumbprint: { primaryThumbprint: string | null; secondaryThumbprint: string | null };
    type: HubDevice['authenticationType'];
  };
  capabilities: { iotEdge: boolean };
}

export interface DeviceTwinJson {
  deviceId: string;
  etag: string;
  deviceEtag: string;
  status: 'enabled' | 'disabled';
  statusUpdateTime: string;
  connectionState: 'Disconnected';
  lastActivityTime: string;
  cloudToDeviceMessageCount: number;
  authenticationType: HubDevice['authenticationType'];
  x509Thumbprint: { primaryThumbprint: string | null; secondaryThumbprint: string | null };
  modelId: string;
  version: number;
  /** Left out when the twin has no tags. */
  tags?: TwinCollection;
  properties: { desired: TwinCollection; reported: TwinCollection };
  capabilities: { iotEdge: boolean };
}

const iso = (ms: number | undefined) => (ms === undefined ? NEVER : new Date(ms).toISOString());

function thumbprints(device: HubDevice) {
  return {
    primaryThumbprint: device.primaryThumbprint ?? null,
    secondaryThumbprint: device.secondaryThumbprint ?? null,
  };
}

export function presentDevice(device: HubDevice, keys: SymmetricKeys): DeviceIdentityJson {
  return {
    deviceId: device.deviceId,
    generationId: device.generationId,
    etag: deviceEtag(device.sequence),
    connectionState: 'Disconnected',
    status: device.status,
    statusReason: device.statusReason ?? null,
    connectionStateUpdatedTime: NEVER,
    statusUpdatedTime: iso(device.statusUpdatedMs),
    lastActivityTime: NEVER,
    cloudToDeviceMessageCount: 0,
    authentication: {
      symmetricKey: keys,
      x509Thumbprint: thumbprints(device),
      type: device.authenticationType,
    },
    capabilities: { iotEdge: device.iotEdge },
  };
}

export function presentTwin(device: HubDevice): DeviceTwinJson {
  const twin: DeviceTwinJson = {
    deviceId: device.deviceId,
    etag: twinEtag(device.twinSequence),
    deviceEtag: deviceEtag(device.sequence),
    status: device.status,
    statusUpdateTime: iso(device.statusUpdatedMs),
    connectionState: 'Disconnected',
    lastActivityTime: NEVER,
    cloudToDeviceMessageCount: 0,
    authenticationType: device.authenticationType,
    x509Thumbprint: thumbprints(device),
    modelId: '',
    version: device.twinVersion,
    properties: {
      desired: {
        ...structuredClone(device.desired),
        $metadata: { $lastUpdated: iso(device.desiredUpdatedMs), $lastUpdatedVersion: device.desiredVersion },
        $version: device.desiredVersion,
      },
      reported: { $metadata: { $lastUpdated: iso(device.createdMs) }, $version: 1 },
    },
    capabilities: { iotEdge: device.iotEdge },
  };
  if (device.tags) twin.tags = structuredClone(device.tags);
  return twin;
}

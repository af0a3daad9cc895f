// The allocation benchmark's workload: a realistic 10-rule policy (globs, regexes, payload conditions, every
// strategy, templates) and a fixed corpus of DPS webhook bodies whose deciding rule varies across requests.
import type { PolicyInput } from '../src/allocation/policy-schema';

const HUBS = {
  toasters: 'contoso-toasters-hub-1098.azure-devices.net',
  heatpumps: 'contoso-heatpumps-hub-1098.azure-devices.net',
  eu1: 'hub-eu-1.azure-devices.net',
  eu2: 'hub-eu-2.azure-devices.net',
  us1: 'hub-us-1.azure-devices.net',
  asia1: 'hub-asia-1.azure-devices.net',
  quarantine: 'hub-quarantine.azure-devices.net',
};

export const BENCH_POLICY: PolicyInput = {
  description: 'Benchmark policy: 10 rules in the style of a production fleet.',
  hubs: {
    toasters: { hostName: HUBS.toasters },
    heatpumps: { hostName: HUBS.heatpumps },
    eu1: { hostName: HUBS.eu1, region: 'eu', weight: 3 },
    eu2: { hostName: HUBS.eu2, region: 'eu', weight: 2 },
    us1: { hostName: HUBS.us1, region: 'us', weight: 4 },
    asia1: { hostName: HUBS.asia1, region: 'asia' },
    quarantine: { hostName: HUBS.quarantine },
  },
  regions: {
    westeurope: ['eu', 'us'],
    northeurope: ['eu'],
    eastus: ['us', 'eu'],
    westus: ['us'],
    japaneast: ['asia', 'us'],
    southeastasia: ['asia'],
  },
  defaults: { strategy: { type: 'hashed' }, reprovision: 'reallocate', onNoCandidate: 'nextRule' },
  rules: [
    {
      name: 'quarantine-old-firmware',
      match: { payload: { firmware: { regex: '^0\\.' } } },
      hubs: ['quarantine'],
      strategy: { type: 'static' },
      initialTwin: { tags: { quarantined: true, reason: 'firmware {{payload.firmware}}' } },
    },
    {
      name: 'toasters',
      match: { registrationId: '*-contoso-tstrsd-*' },
      hubs: ['*-toasters-*'],
      initialTwin: {
        tags: { deviceType: 'toaster' },
        properties: { desired: { state: 'ready', darknessSetting: 'medium' } },
      },
    },
    {
      name: 'heatpumps',
      match: { registrationId: '*-contoso-hpsd-*' },
      hubs: ['*-heatpumps-*'],
      initialTwin: {
        tags: { deviceType: 'heatpump' },
        properties: { desired: { state: 'on', temperatureSetting: 65 } },
      },
    },
    {
      name: 'edge-gateways',
      match: { iotEdge: true, enrollmentGroupId: ['edge-*', { regex: '^gateways-[a-z]+$' }] },
      hubs: ['eu1', 'eu2', 'us1'],
      initialTwin: { tags: { role: 'gateway', group: '{{enrollmentGroupId}}' } },
    },
    {
      name: 'industrial-tpm',
      match: { attestation: 'tpm', payload: { site: { in: ['plant-a', 'plant-b', 'plant-c'] } } },
      strategy: {
        type: 'payloadMap',
        field: 'site',
        map: { 'plant-a': 'eu1', 'plant-b': 'eu2', 'plant-c': 'us1' },
        onMissing: 'hashed',
      },
      payload: { site: '{{payload.site}}', hub: '{{hubAlias}}' },
    },
    {
      name: 'by-model',
      match: { payload: { 'model.id': { regex: '^dtmi:contoso:[a-z]+;\\d+$' } } },
      strategy: {
        type: 'payloadMap',
        field: 'model.id',
        map: {
          'dtmi:contoso:thermostat;1': 'eu1',
          'dtmi:contoso:thermostat;2': 'eu2',
          'dtmi:contoso:meter;1': 'us1',
        },
        onMissing: 'hashed',
      },
      initialTwin: { tags: { model: '{{payload.model.id}}' } },
    },
    {
      name: 'geo-routed',
      match: { payload: { region: { exists: true } } },
      hubs: ['eu1', 'eu2', 'us1', 'asia1'],
      strategy: { type: 'geo', regionField: 'region', onUnknownRegion: 'hashed' },
    },
    {
      name: 'keep-reprovisioned',
      match: { assignment: 'reprovision' },
      reprovision: 'sticky',
    },
    {
      name: 'x509-fleet',
      match: { attestation: 'x509', enrollmentKind: 'group' },
      hubs: ['hub-eu-*', 'hub-us-*'],
      payload: { assignedHub: '{{hub}}', deviceId: '{{registrationId}}' },
    },
    {
      name: 'individual-devices',
      match: { enrollmentKind: 'individual' },
      hubs: ['eu1', 'us1', 'asia1'],
    },
  ],
  fallback: { action: 'allocate', hubs: ['eu1', 'eu2', 'us1', 'asia1'], reprovision: 'sticky' },
};

/** DPS sends the same few linkedHubs lists again and again (one per enrollment). */
const LINKED_HUB_LISTS: readonly string[][] = [
  Object.values(HUBS),
  [HUBS.toasters, HUBS.heatpumps, HUBS.eu1, HUBS.us1],
  [HUBS.eu1, HUBS.eu2, HUBS.us1, HUBS.asia1, HUBS.quarantine],
  [HUBS.eu1, HUBS.eu2, HUBS.us1, HUBS.asia1],
];

/** mulberry32: a tiny seeded PRNG, so that the corpus is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Attestation = 'symmetricKey' | 'x509' | 'tpm';

interface Device {
  registrationId: string;
  group?: string;
  attestation: Attestation;
  iotEdge?: boolean;
  payload?: Record<string, unknown>;
  currentHub?: string;
  linkedHubs: string[];
}

/** One kind of device per rule (and one for the fallback), so that every rule decides part of the corpus. */
const PERSONAS: ((n: number, pick: <T>(items: readonly T[]) => T) => Device)[] = [
  (n, pick) => ({
    registrationId: `sensor-${n}`,
    group: 'field-sensors',
    attestation: 'symmetricKey',
    payload: { firmware: pick(['0.9.1', '0.8.7']), region: 'westeurope' },
    linkedHubs: LINKED_HUB_LISTS[0]!,
  }),
  (n, pick) => ({
    registrationId: `${pick(['breakroom', 'kitchen', 'lobby'])}${n}-contoso-tstrsd-${n % 1000}`,
    group: 'contoso-custom-allocated-devices',
    attestation: 'symmetricKey',
    payload: { MyDeviceFirmwareVersion: '12.0.2.5', MyDeviceProvisioningVersion: '1.0.0.0' },
    linkedHubs: pick([LINKED_HUB_LISTS[0]!, LINKED_HUB_LISTS[1]!]),
  }),
  (n, pick) => ({
    registrationId: `${pick(['basement', 'attic'])}${n}-contoso-hpsd-${n % 1000}`,
    group: 'contoso-custom-allocated-devices',
    attestation: 'symmetricKey',
    linkedHubs: pick([LINKED_HUB_LISTS[0]!, LINKED_HUB_LISTS[1]!]),
  }),
  (n, pick) => ({
    registrationId: `edge-gw-${n}`,
    group: pick(['edge-eu', 'gateways-plant', 'edge-us']),
    attestation: 'x509',
    iotEdge: true,
    linkedHubs: LINKED_HUB_LISTS[0]!,
  }),
  (n, pick) => ({
    registrationId: `plc-${n}`,
    attestation: 'tpm',
    payload: { site: pick(['plant-a', 'plant-b', 'plant-c']), line: n % 12 },
    linkedHubs: LINKED_HUB_LISTS[2]!,
  }),
  (n, pick) => ({
    registrationId: `thermo-${n}`,
    group: 'pnp-devices',
    attestation: 'symmetricKey',
    payload: {
      model: {
        id: pick([
          'dtmi:contoso:thermostat;1',
          'dtmi:contoso:thermostat;2',
          'dtmi:contoso:meter;1',
          'dtmi:contoso:valve;3',
        ]),
      },
    },
    linkedHubs: LINKED_HUB_LISTS[3]!,
  }),
  (n, pick) => ({
    registrationId: `tracker-${n}`,
    group: 'trackers',
    attestation: 'symmetricKey',
    payload: {
      region: pick([
        'westeurope',
        'northeurope',
        'eastus',
        'westus',
        'japaneast',
        'southeastasia',
        'brazilsouth',
      ]),
    },
    linkedHubs: LINKED_HUB_LISTS[3]!,
  }),
  (n, pick) => ({
    registrationId: `meter-${n}`,
    group: 'smart-meters',
    attestation: 'symmetricKey',
    currentHub: pick([HUBS.eu1, HUBS.us1, HUBS.asia1, 'hub-retired.azure-devices.net']),
    linkedHubs: LINKED_HUB_LISTS[3]!,
  }),
  (n) => ({
    registrationId: `cam-${n}`,
    group: 'x509-cameras',
    attestation: 'x509',
    linkedHubs: LINKED_HUB_LISTS[0]!,
  }),
  (n, pick) => ({
    registrationId: `dev-${n}`,
    attestation: pick(['symmetricKey', 'x509'] as const),
    linkedHubs: LINKED_HUB_LISTS[2]!,
  }),
  (n) => ({
    registrationId: `misc-${n}`,
    group: 'misc',
    attestation: 'symmetricKey',
    linkedHubs: LINKED_HUB_LISTS[3]!,
  }),
];

function enrollmentAttestation(type: Attestation): Record<string, unknown> {
  if (type === 'tpm')
    return {
      type,
      tpm: {
        endorsementKey: 'AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEA',
      },
    };
  if (type === 'x509') return { type, x509: { caReferences: { primary: 'contoso-root-ca' } } };
  return { type };
}

/**
 * The webhook body DPS would send for a device (docs/dps-contract.md §1.2, shaped like the documented
 * samples).
 */
function bodyOf(device: Device): Record<string, unknown> {
  const enrollment = {
    attestation: enrollmentAttestation(device.attestation),
    capabilities: { iotEdge: device.iotEdge ?? false },
    etag: '"13003fea-0000-0300-0000-62d1d5e50000"',
    provisioningStatus: 'enabled',
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    createdDateTimeUtc: '2022-07-05T21:27:16.8123235Z',
    lastUpdatedDateTimeUtc: '2022-07-15T21:02:29.5922255Z',
    allocationPolicy: 'custom',
    iotHubs: device.linkedHubs,
    customAllocationDefinition: {
      webhookUrl: 'https://dps-allocator.azurewebsites.net/api/allocate?****',
      apiVersion: '2021-10-01',
    },
  };
  const runtime: Record<string, unknown> = { registrationId: device.registrationId };
  if (device.attestation === 'tpm') {
    runtime.tpm = {
      endorsementKey: 'AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEA',
      storageRootKey: 'ARgAAQALAAMAcgAAAAYAgAAQ',
    };
  } else if (device.attestation === 'x509') {
    runtime.x509 = {};
  } else {
    runtime.symmetricKey = {};
  }
  if (device.currentHub) {
    runtime.currentIotHubHostName = device.currentHub;
    runtime.currentDeviceId = device.registrationId;
  }
  if (device.payload) runtime.payload = device.payload;
  return {
    ...(device.group === undefined
      ? {
          individualEnrollment: {
            registrationId: device.registrationId,
            deviceId: device.registrationId,
            ...enrollment,
          },
        }
      : { enrollmentGroup: { enrollmentGroupId: device.group, ...enrollment } }),
    deviceRuntimeContext: runtime,
    linkedHubs: device.linkedHubs,
  };
}

/** `count` serialised webhook bodies, cycling through the personas in a shuffled but fixed order. */
export function benchBodies(count: number, seed = 2024): string[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const bodies: string[] = [];
  for (let n = 0; n < count; n++) {
    const persona = PERSONAS[Math.floor(random() * PERSONAS.length)]!;
    bodies.push(JSON.stringify(bodyOf(persona(n, pick))));
  }
  return bodies;
}

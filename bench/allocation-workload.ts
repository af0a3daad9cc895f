// The allocation benchmark's workload: a realistic 10-rule policy (globs, regexes, payload conditions, every
// strategy, templates) and a fixed corpus of DPS webhook bodies whose deciding rule varies across requests.
import {
  dpsRequestBody,
  HEATPUMPS_HUB,
  SAMPLE_GROUP_ID,
  TOASTERS_HUB,
  type SampleDevice,
} from '../dev/fixtures/dps-requests';
import { HEATPUMPS_RULE, TOASTERS_RULE } from '../dev/fixtures/policies';
import { createRandom } from '../dev/dps-emulator/rng';
import type { PolicyInput } from '../src/allocation/policy-schema';

const HUBS = {
  toasters: TOASTERS_HUB,
  heatpumps: HEATPUMPS_HUB,
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
    TOASTERS_RULE,
    HEATPUMPS_RULE,
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

/** One kind of device per rule (and one for the fallback), so that every rule decides part of the corpus. */
const PERSONAS: ((n: number, pick: <T>(items: readonly T[]) => T) => SampleDevice)[] = [
  (n, pick) => ({
    registrationId: `sensor-${n}`,
    group: 'field-sensors',
    attestation: 'symmetricKey',
    payload: { firmware: pick(['0.9.1', '0.8.7']), region: 'westeurope' },
    linkedHubs: LINKED_HUB_LISTS[0]!,
  }),
  (n, pick) => ({
    registrationId: `${pick(['breakroom', 'kitchen', 'lobby'])}${n}-contoso-tstrsd-${n % 1000}`,
    group: SAMPLE_GROUP_ID,
    attestation: 'symmetricKey',
    payload: { MyDeviceFirmwareVersion: '12.0.2.5', MyDeviceProvisioningVersion: '1.0.0.0' },
    linkedHubs: pick([LINKED_HUB_LISTS[0]!, LINKED_HUB_LISTS[1]!]),
  }),
  (n, pick) => ({
    registrationId: `${pick(['basement', 'attic'])}${n}-contoso-hpsd-${n % 1000}`,
    group: SAMPLE_GROUP_ID,
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

/** `count` serialised webhook bodies, cycling through the personas in a shuffled but fixed order. */
export function benchBodies(count: number, seed = 2024): string[] {
  const random = createRandom(seed); // fixed seed: the same corpus on every run
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const bodies: string[] = [];
  for (let n = 0; n < count; n++) {
    const persona = PERSONAS[Math.floor(random() * PERSONAS.length)]!;
    bodies.push(JSON.stringify(dpsRequestBody({ iotEdge: false, ...persona(n, pick) })));
  }
  return bodies;
}

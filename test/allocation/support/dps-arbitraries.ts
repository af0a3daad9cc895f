// fast-check generators of DPS custom-allocation webhook bodies (docs/dps-contract.md §1.2), valid ones only.
// The bodies are dev/fixtures/dps-requests.ts's, shaped like the documented samples; values vary where DPS lets
// them vary.
import fc from 'fast-check';
import {
  dpsRequestBody,
  HEATPUMPS_HUB,
  SAMPLE_GROUP_ID,
  TOASTERS_HUB,
  type SampleAttestation,
} from '../../../dev/fixtures/dps-requests';

/** Hub host names the generated linkedHubs are drawn from; the test policies know some of them. */
export const KNOWN_HUBS = [
  TOASTERS_HUB,
  HEATPUMPS_HUB,
  'hub-eu-1.azure-devices.net',
  'hub-eu-2.azure-devices.net',
  'hub-us-1.azure-devices.net',
  'hub-asia-1.azure-devices.net',
  'legacy-hub.azure-devices.net',
  'unknown-hub-77.azure-devices.net',
] as const;

/** Device regions sent in payloads: some are in the test policies' region tables, some are not. */
export const DEVICE_REGIONS = [
  'westeurope',
  'northeurope',
  'eastus',
  'westus',
  'japaneast',
  'eu',
  'us',
  'mars',
];

/** Values of payload.model; the test policies map some of them to hubs. */
export const DEVICE_MODELS = ['toaster', 'heatpump', 'fridge', 'gateway', 'sensor-v2'];

/** The characters DPS allows in registration ids: lower-case alphanumerics and - . _ : (at most 128). */
export const REGISTRATION_ID_CHARACTERS = 'abcdefghijklmnopqrstuvwxyz0123456789-._:';

export const randomRegistrationId = fc.string({
  unit: fc.constantFrom(...REGISTRATION_ID_CHARACTERS),
  minLength: 1,
  maxLength: 128,
});

/** Ids shaped like the tutorial's, so that glob rules (`*-contoso-tstrsd-*`, `static-*`) match some of them. */
const patternedRegistrationId = fc
  .tuple(
    fc.constantFrom('breakroom', 'kitchen', 'static', 'lab', 'sn', 'gw', 'x'),
    fc.nat(9999),
    fc.constantFrom('-contoso-tstrsd-', '-contoso-hpsd-', '-', '.', ':', '_sensor-'),
    fc.nat(999),
  )
  .map(([place, n, kind, m]) => `${place}${n}${kind}${String(m).padStart(3, '0')}`);

export const registrationIdArb = fc.oneof(randomRegistrationId, patternedRegistrationId);

/** A random subset of KNOWN_HUBS, shuffled, each host name in random letter case (DPS host names are case-insensitive). */
export const linkedHubsArb = fc
  .shuffledSubarray([...KNOWN_HUBS], { minLength: 0, maxLength: KNOWN_HUBS.length })
  .chain((hubs) => fc.tuple(...hubs.map((hub) => fc.mixedCase(fc.constant(hub)))));

/** A JSON object payload: the fields the test policies read, plus random JSON. */
export const payloadArb: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record(
      {
        region: fc.oneof(fc.constantFrom(...DEVICE_REGIONS), fc.string(), fc.jsonValue({ maxDepth: 1 })),
        model: fc.oneof(fc.constantFrom(...DEVICE_MODELS), fc.string(), fc.integer()),
        fw: fc.oneof(fc.constantFrom('1.0.0', '2.3.1', '12.0.2.5'), fc.string()),
        hub: fc.oneof(fc.constantFrom(...KNOWN_HUBS, 'eu1', 'us1'), fc.string()),
        temperature: fc.double({ noNaN: true, noDefaultInfinity: true }),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

export interface ValidBodyOptions {
  /** Registration ids to use; default registrationIdArb. */
  registrationId?: fc.Arbitrary<string>;
  linkedHubs?: fc.Arbitrary<string[]>;
}

/** A body DPS could send: group or individual enrollment, symmetric key / X.509 / TPM, optional payload and current hub. */
export function validBodyArb(options: ValidBodyOptions = {}): fc.Arbitrary<Record<string, unknown>> {
  const enrollment = fc.oneof(
    fc.record({
      kind: fc.constant('group' as const),
      // DPS enrollment groups support symmetric keys and X.509 only.
      attestation: fc.constantFrom<SampleAttestation>('symmetricKey', 'x509'),
      id: fc.oneof(fc.constantFrom(SAMPLE_GROUP_ID, 'x509-gateways', 'edge-fleet'), randomRegistrationId),
    }),
    fc.record({
      kind: fc.constant('individual' as const),
      attestation: fc.constantFrom<SampleAttestation>('symmetricKey', 'x509', 'tpm'),
      id: fc.constant(''),
    }),
  );
  return fc
    .record({
      enrollment,
      registrationId: options.registrationId ?? registrationIdArb,
      linkedHubs: options.linkedHubs ?? linkedHubsArb,
      iotEdge: fc.option(fc.boolean(), { nil: undefined }),
      currentHub: fc.oneof(
        fc.constant('none' as const),
        fc.constant('linked' as const),
        fc.constantFrom(...KNOWN_HUBS),
      ),
      currentHubCase: fc.boolean(),
      payload: fc.option(payloadArb, { nil: undefined, freq: 3 }),
    })
    .map((g) => {
      const current =
        g.currentHub === 'none' ? undefined : g.currentHub === 'linked' ? g.linkedHubs[0] : g.currentHub;
      return dpsRequestBody({
        registrationId: g.registrationId,
        ...(g.enrollment.kind === 'group' ? { group: g.enrollment.id } : {}),
        attestation: g.enrollment.attestation,
        iotEdge: g.iotEdge,
        linkedHubs: g.linkedHubs,
        currentHub: current !== undefined && g.currentHubCase ? current.toUpperCase() : current,
        payload: g.payload,
      });
    });
}

/** The registration id of a generated body. */
export function registrationIdOf(body: Record<string, unknown>): string {
  return (body.deviceRuntimeContext as { registrationId: string }).registrationId;
}

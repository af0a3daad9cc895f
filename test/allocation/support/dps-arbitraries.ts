// fast-check generators of DPS custom-allocation webhook bodies (docs/dps-contract.md §1.2), valid ones only.
// The bodies are dev/fixtures/dps-requests.ts's, shaped like the documented samples; values vary where DPS lets
// them vary.
import fc from 'fast-check';
import { distinguishedName } from '../../../dev/dps-emulator/x509-info';
import {
  dpsRequestBody,
  HEATPUMPS_HUB,
  SAMPLE_GROUP_ID,
  TOASTERS_HUB,
  type SampleAttestation,
} from '../../../dev/fixtures/dps-requests';
import { hubLoadOf, type HubLoadView } from '../../../src/allocation/hub-load';

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

/** The evaluation time certificate expiry is judged at in the property tests (the arbitraries date from it). */
export const ARBITRARY_NOW = Date.parse('2026-06-01T00:00:00.000Z');
const DAY_MS = 86_400_000;

/** Organisations in generated certificate subjects; the test policies match some of them. */
export const CERTIFICATE_ORGANISATIONS = [
  'Contoso-EU',
  'contoso-eu',
  'Contoso-US',
  'Fabrikam',
  'Contoso, Ltd',
];

/** A generated deviceRuntimeContext.x509, and what it holds. */
export interface GeneratedCertificate {
  x509: Record<string, unknown>;
  /** certificateInfo is an object with something the policy can read. */
  readable: boolean;
  /** The subject's O values, in the order of the name. */
  organisations: string[];
  /** notAfter in ms, when the certificate has a readable one. */
  notAfter: number | undefined;
}

const nameValueArb = fc
  .string({ unit: fc.constantFrom(...'abcXYZ0129 -_.,+"=;#é'), minLength: 1, maxLength: 20 })
  .map((value) => value.trim())
  .filter((value) => value.length > 0);
const hexArb = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF'), minLength: length, maxLength: length });

/** A name written as the DPS emulator writes it (x509-info's distinguishedName), from its attributes. */
function writtenName(attributes: [string, string][]): string {
  return distinguishedName(attributes.map(([type, value]) => `${type}=${value}`).join('\n'));
}

/** Certificate details in the shape of docs/dps-contract.md §1.2; sometimes only a subject. */
const readableCertificateArb: fc.Arbitrary<GeneratedCertificate> = fc
  .record({
    cn: nameValueArb,
    organisations: fc.array(fc.oneof(fc.constantFrom(...CERTIFICATE_ORGANISATIONS), nameValueArb), {
      maxLength: 2,
    }),
    units: fc.array(nameValueArb, { maxLength: 2 }),
    issuer: fc.constantFrom('Contoso Intermediate EU', 'Contoso Root CA', 'Fabrikam CA'),
    // Often right at the 30 days the test policies ask about.
    notAfterDays: fc.oneof(fc.integer({ min: -30, max: 800 }), fc.constantFrom(29, 30, 31)),
    sha1: hexArb(40),
    sha256: hexArb(64),
    group: fc.boolean(),
    subjectOnly: fc.boolean(),
  })
  .map((g) => {
    const subjectName = writtenName([
      ['CN', g.cn],
      ...g.units.map((ou): [string, string] => ['OU', ou]),
      ...g.organisations.map((o): [string, string] => ['O', o]),
    ]);
    const notAfter = ARBITRARY_NOW + g.notAfterDays * DAY_MS;
    const issuerName = writtenName([
      ['CN', g.issuer],
      ['O', g.issuer.split(' ')[0]!],
    ]);
    const certificateInfo = g.subjectOnly
      ? { subjectName }
      : {
          subjectName,
          sha1Thumbprint: g.sha1,
          sha256Thumbprint: g.sha256,
          issuerName,
          notBeforeUtc: new Date(notAfter - 365 * DAY_MS).toISOString(),
          notAfterUtc: new Date(notAfter).toISOString(),
          serialNumber: g.sha1.slice(0, 16),
          version: 3,
        };
    const signing = { subjectName: issuerName, issuerName: 'CN=Contoso Root CA', version: 3 };
    return {
      x509: g.group
        ? { certificateInfo, enrollmentGroupId: 'x509-gateways', signingCertificateInfo: signing }
        : { certificateInfo },
      readable: true,
      organisations: g.organisations,
      notAfter: g.subjectOnly ? undefined : notAfter,
    };
  });

/** x509 objects the project cannot read a certificate from: DPS may send a shape nobody documented. */
const unreadableCertificateArb: fc.Arbitrary<GeneratedCertificate> = fc
  .oneof(
    fc.constant({}),
    // Keys shorter than certificateInfo, so never one the reader knows.
    fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    fc.record({
      certificateInfo: fc.oneof(
        fc.string(),
        fc.integer(),
        fc.constant(null),
        fc.array(fc.jsonValue({ maxDepth: 1 })),
      ),
    }),
    fc.record({
      certificateInfo: fc.record({
        subjectName: fc.oneof(fc.integer(), fc.constant(''), fc.constant(null)),
        notAfterUtc: fc.oneof(fc.constant('soon'), fc.integer(), fc.constant('1')),
        sha1Thumbprint: fc.oneof(fc.constant('5D7A0E0E'), fc.boolean()),
      }),
    }),
  )
  .map((x509) => ({
    x509: x509 as Record<string, unknown>,
    readable: false,
    organisations: [],
    notAfter: undefined,
  }));

export const certificateArb = fc.oneof(
  { arbitrary: readableCertificateArb, weight: 3 },
  { arbitrary: unreadableCertificateArb, weight: 1 },
);

export interface ValidBodyOptions {
  /** Registration ids to use; default registrationIdArb. */
  registrationId?: fc.Arbitrary<string>;
  linkedHubs?: fc.Arbitrary<string[]>;
}

/** A generated body, with the attestation and certificate it was given (a stray one on a non-X.509 device). */
export interface GeneratedBody {
  body: Record<string, unknown>;
  attestation: SampleAttestation;
  certificate: GeneratedCertificate | undefined;
}

/**
 * A body DPS could send: group or individual enrollment, symmetric key / X.509 / TPM, optional payload and current
 * hub. X.509 devices carry a certificate (readable or not); now and then another device carries one too.
 */
export function validBodyArb(options: ValidBodyOptions = {}): fc.Arbitrary<Record<string, unknown>> {
  return generatedBodyArb(options).map((generated) => generated.body);
}

export function generatedBodyArb(options: ValidBodyOptions = {}): fc.Arbitrary<GeneratedBody> {
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
      certificate: certificateArb,
      strayCertificate: fc.boolean(),
    })
    .map((g): GeneratedBody => {
      const current =
        g.currentHub === 'none' ? undefined : g.currentHub === 'linked' ? g.linkedHubs[0] : g.currentHub;
      const attestation = g.enrollment.attestation;
      const body = dpsRequestBody({
        registrationId: g.registrationId,
        ...(g.enrollment.kind === 'group' ? { group: g.enrollment.id } : {}),
        attestation,
        iotEdge: g.iotEdge,
        linkedHubs: g.linkedHubs,
        currentHub: current !== undefined && g.currentHubCase ? current.toUpperCase() : current,
        payload: g.payload,
        ...(attestation === 'x509' ? { x509: g.certificate.x509 } : {}),
      });
      const stray = attestation !== 'x509' && g.strayCertificate && g.certificate.readable;
      if (stray) (body.deviceRuntimeContext as Record<string, unknown>).x509 = g.certificate.x509;
      return { body, attestation, certificate: attestation === 'x509' || stray ? g.certificate : undefined };
    });
}

/** The registration id of a generated body. */
export function registrationIdOf(body: Record<string, unknown>): string {
  return (body.deviceRuntimeContext as { registrationId: string }).registrationId;
}

/** The maximum age of the generated hub device counts: older ones are stale. */
export const HUB_LOAD_MAX_AGE_MS = 300_000;

/**
 * Hub device counts as allocate could hold them: none yet, fresh, or stale; for any subset of KNOWN_HUBS (in any
 * letter case, as read), from empty to beyond the test policies' caps.
 */
export function hubLoadArb(now: number): fc.Arbitrary<HubLoadView> {
  const counts = fc
    .subarray([...KNOWN_HUBS])
    .chain((hubs) =>
      fc.tuple(...hubs.map((hub) => fc.tuple(fc.mixedCase(fc.constant(hub)), fc.nat({ max: 150 })))),
    );
  const age = fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: 0, max: HUB_LOAD_MAX_AGE_MS }),
    fc.integer({ min: HUB_LOAD_MAX_AGE_MS + 1, max: 10 * HUB_LOAD_MAX_AGE_MS }),
  );
  return fc.tuple(counts, age).map(([entries, ageMs]) => {
    const view = hubLoadOf(entries, now - (ageMs ?? 0), HUB_LOAD_MAX_AGE_MS);
    return ageMs === undefined ? { ...view, readAtMs: undefined } : view;
  });
}

// Property-based tests of the allocation webhook: whatever DPS (or anyone else) posts, the answer is a 200 naming
// a linked hub or a 400 that says why; the same request always gets the same answer.
import fc from 'fast-check';
import { compilePolicy, type Allocator } from '../../src/allocation/engine';
import { parsePolicy } from '../../src/allocation/policy';
import type { PolicyInput } from '../../src/allocation/policy-schema';
import { createAllocationWebhook } from '../../src/allocation/setup';
import { answerAllocationRequest, type WebhookAnswer } from '../../src/allocation/webhook';
import { hubLoadUnusable, type HubLoadView } from '../../src/allocation/hub-load';
import {
  ARBITRARY_NOW,
  generatedBodyArb,
  hubLoadArb,
  KNOWN_HUBS,
  linkedHubsArb,
  payloadArb,
  REGISTRATION_ID_CHARACTERS,
  registrationIdOf,
  validBodyArb,
} from './support/dps-arbitraries';
import { copyOf, officialSample } from '../../dev/fixtures/dps-requests';

// Fixed seed: CI runs the same cases every time. A failure report prints the seed and path to replay it.
fc.configureGlobal({ seed: 0x0d95a110, numRuns: 200 });

const LIMITS = { maxBodyBytes: 128 * 1024 };
/** Certificate expiry is judged at one fixed instant, so that answering twice cannot straddle a boundary. */
const NOW = ARBITRARY_NOW;
const DAY_MS = 86_400_000;

/** Every strategy, weights, a region table, templates, aliases whose case differs from linkedHubs. */
const everyStrategyPolicy: PolicyInput = {
  hubs: {
    toasters: { hostName: 'contoso-toasters-hub-1098.azure-devices.net', weight: 2 },
    heatpumps: { hostName: 'contoso-heatpumps-hub-1098.azure-devices.net' },
    eu1: { hostName: 'hub-eu-1.azure-devices.net', region: 'eu', weight: 3 },
    eu2: { hostName: 'HUB-EU-2.azure-devices.net', region: 'EU' },
    us1: { hostName: 'hub-us-1.azure-devices.net', region: 'us', weight: 5 },
    asia1: { hostName: 'hub-asia-1.azure-devices.net', region: 'asia' },
  },
  regions: {
    westeurope: ['eu', 'us'],
    northeurope: ['eu'],
    eastus: ['us', 'eu'],
    westus: ['us'],
    japaneast: ['asia', 'us'],
  },
  defaults: { strategy: { type: 'hashed' }, reprovision: 'reallocate', onNoCandidate: 'nextRule' },
  rules: [
    {
      name: 'static-devices',
      match: { registrationId: 'static*' },
      hubs: ['legacy-hub.azure-devices.net', 'us1', 'eu1'],
      strategy: { type: 'static' },
    },
    {
      name: 'eu-certificates',
      match: { x509: { subject: { O: 'Contoso-EU' } } },
      hubs: ['hub-eu-*'],
      initialTwin: {
        tags: { owner: '{{x509.subject.O}}', device: '{{x509.subject.CN}}', expires: '{{x509.notAfter}}' },
      },
    },
    {
      name: 'rotation-due',
      match: { x509: { notAfter: { within: '30d' } } },
      hubs: ['us1'],
      payload: { rotate: true, thumbprint: '{{x509.thumbprint}}', issuer: 'issued by {{x509.issuer.CN}}' },
    },
    {
      name: 'signed-by-contoso',
      match: { x509: { signingSubject: { O: 'Contoso*' }, issuer: { CN: { regex: 'Intermediate' } } } },
      hubs: ['eu2', 'asia1', 'toasters'],
      strategy: { type: 'static' },
    },
    {
      name: 'tpm-weighted',
      match: { attestation: 'tpm' },
      hubs: ['eu1', 'eu2', 'us1', 'toasters'],
      strategy: { type: 'hashed' },
      reprovision: 'sticky',
    },
    {
      name: 'models',
      match: { payload: { model: { exists: true } } },
      strategy: {
        type: 'payloadMap',
        field: 'model',
        map: { toaster: 'toasters', heatpump: 'heatpumps', gateway: 'hub-eu-2.azure-devices.net' },
        onMissing: 'hashed',
      },
      initialTwin: { tags: { model: '{{payload.model}}', rule: '{{rule}}' } },
    },
    {
      name: 'named-hub',
      match: { payload: { hub: { regex: '^hub-' } } },
      strategy: { type: 'payloadMap', field: 'hub', onMissing: 'reject' },
    },
    {
      name: 'geo',
      match: { payload: { region: { exists: true } } },
      hubs: ['*.azure-devices.net'],
      strategy: { type: 'geo', regionField: 'region', onUnknownRegion: 'hashed' },
      payload: { assignedHub: '{{hubAlias}}', region: '{{payload.region}}' },
    },
    {
      name: 'edge-groups',
      match: { iotEdge: true, enrollmentKind: 'group', enrollmentGroupId: ['edge-*', { regex: '^x509-' }] },
      hubs: ['hub-eu-*', 'us1'],
      strategy: { type: 'hashed' },
    },
    {
      name: 'tutorial-toasters',
      match: { registrationId: { regex: '-contoso-tstrsd-\\d+$' } },
      hubs: ['*-toasters-*'],
      initialTwin: {
        tags: { deviceType: 'toaster' },
        properties: { desired: { state: 'ready', device: '{{registrationId}} on {{hub}}' } },
      },
    },
  ],
  fallback: { action: 'allocate', strategy: { type: 'hashed' }, reprovision: 'sticky' },
};

/** Reprovisioned devices keep their hub while it is linked; others are hashed by weight. */
const stickyPolicy: PolicyInput = {
  hubs: {
    eu1: { hostName: 'hub-eu-1.azure-devices.net', weight: 4 },
    us1: { hostName: 'hub-us-1.azure-devices.net', weight: 2 },
  },
  defaults: { reprovision: 'sticky' },
  rules: [{ name: 'everyone', strategy: { type: 'hashed' } }],
};

/** Rules whose hubs are never linked hand over to an allocating fallback. */
const fallbackPolicy: PolicyInput = {
  rules: [
    { name: 'gone-hub', hubs: ['decommissioned-hub.azure-devices.net'], onNoCandidate: 'fallback' },
    { name: 'never-reached', strategy: { type: 'static' } },
  ],
  fallback: {
    action: 'allocate',
    strategy: { type: 'hashed' },
    initialTwin: { tags: { allocatedBy: '{{rule}}' } },
  },
};

/** Caps (some below the generated counts), draining hubs, leastLoaded, static failover and sticky keep / move. */
const capacityPolicy: PolicyInput = {
  hubs: {
    toasters: { hostName: 'contoso-toasters-hub-1098.azure-devices.net', maxDevices: 50 },
    eu1: { hostName: 'hub-eu-1.azure-devices.net', maxDevices: 100, weight: 3 },
    eu2: { hostName: 'HUB-EU-2.azure-devices.net', drain: true },
    us1: { hostName: 'hub-us-1.azure-devices.net', maxDevices: 1 },
    asia1: { hostName: 'hub-asia-1.azure-devices.net', weight: 2 },
    legacy: { hostName: 'legacy-hub.azure-devices.net', drain: true, maxDevices: 10 },
  },
  defaults: { strategy: { type: 'leastLoaded' }, onNoCandidate: 'nextRule' },
  rules: [
    {
      name: 'eu-keep',
      match: { registrationId: '*eu*' },
      hubs: ['hub-eu-*'],
      reprovision: 'sticky',
      onDrainingHub: 'keep',
    },
    {
      name: 'static-failover',
      match: { registrationId: 'static*' },
      hubs: ['legacy', 'us1', 'eu1'],
      strategy: { type: 'static' },
    },
    { name: 'tpm-hashed', match: { attestation: 'tpm' }, strategy: { type: 'hashed' } },
    { name: 'least-loaded', reprovision: 'sticky', onNoCandidate: 'fallback' },
  ],
  fallback: { action: 'allocate', hubs: ['asia1'], strategy: { type: 'leastLoaded' } },
};

type Answer = (body: string) => WebhookAnswer;

function answererFor(input: PolicyInput): { allocator: Allocator; answer: Answer } {
  const allocator = compilePolicy(parsePolicy(input, 'test policy'));
  return { allocator, answer: (body) => answerAllocationRequest(allocator, body, LIMITS, NOW) };
}

const policies: [string, PolicyInput | 'default'][] = [
  ['the default policy (policies/default.policy.json)', 'default'],
  ['a policy with every strategy', everyStrategyPolicy],
  ['a sticky reprovisioning policy', stickyPolicy],
  ['a policy that falls back to allocate', fallbackPolicy],
  ['a capacity-aware policy without hub counts', capacityPolicy],
];

function answerFor(policy: PolicyInput | 'default'): Answer {
  // The default policy goes through app start-up exactly as the function does (settings + policy file).
  if (policy !== 'default') return answererFor(policy).answer;
  const webhook = createAllocationWebhook({});
  return (body) => webhook(body, NOW);
}

function hubOf(answer: WebhookAnswer): string | undefined {
  return answer.status === 200 ? (answer.jsonBody as { iotHubHostName: string }).iotHubHostName : undefined;
}

/** The contract every answer keeps, whatever the body. */
function expectWellFormed(answer: WebhookAnswer, linkedHubs?: readonly string[]): void {
  expect([200, 400]).toContain(answer.status);
  // The Functions host serialises jsonBody; if that throws, DPS gets a 500 and retries.
  expect(() => JSON.stringify(answer.jsonBody)).not.toThrow();
  if (answer.status === 200) {
    const hub = hubOf(answer);
    expect(typeof hub).toBe('string');
    if (linkedHubs) expect(linkedHubs).toContain(hub);
  } else {
    const error = (answer.jsonBody as { error?: unknown }).error;
    expect(typeof error).toBe('string');
    expect((error as string).length).toBeGreaterThan(0);
  }
}

/** The 400 contract for bodies that are not allocation requests. */
function expectRejected(answer: WebhookAnswer): void {
  expect(answer.status).toBe(400);
  expectWellFormed(answer);
}

const serialised = (body: unknown): string => JSON.stringify(body);

/** Depths around the payload nesting limit (32) and far beyond it, where recursion would overflow the stack. */
const nestingDepth = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 20_000 }));

describe.each(policies)('any valid request under %s', (_name, policy) => {
  const answer = answerFor(policy);

  it('gets a 200 naming one of its linkedHubs exactly as sent, or a 400 with a reason', () => {
    fc.assert(
      fc.property(validBodyArb(), (body) => {
        expectWellFormed(answer(serialised(body)), body.linkedHubs as string[]);
      }),
    );
  });

  it('gets the same answer every time, also from a freshly compiled allocator', () => {
    const fresh = answerFor(policy);
    fc.assert(
      fc.property(validBodyArb(), (body) => {
        const text = serialised(body);
        const first = answer(text);
        const again = answer(text);
        const fromFresh = fresh(text);
        const comparable = (a: WebhookAnswer) => ({
          status: a.status,
          jsonBody: a.jsonBody,
          log: { ...a.log, latencyMs: 0 },
        });
        expect(comparable(again)).toEqual(comparable(first));
        expect(comparable(fromFresh)).toEqual(comparable(first));
      }),
    );
  });

  it('picks the same hub whatever the letter case of the registration id and the order of linkedHubs', () => {
    const bodyWithVariant = validBodyArb().chain((body) => {
      const hubs = body.linkedHubs as string[];
      return fc.record({
        body: fc.constant(body),
        reordered: fc.shuffledSubarray(hubs, { minLength: hubs.length, maxLength: hubs.length }),
        recased: fc.mixedCase(fc.constant(registrationIdOf(body))),
      });
    });
    fc.assert(
      fc.property(bodyWithVariant, ({ body, reordered, recased }) => {
        const variant = copyOf(body) as typeof body & {
          deviceRuntimeContext: { registrationId: string };
          individualEnrollment?: { registrationId: string };
        };
        variant.deviceRuntimeContext.registrationId = recased;
        if (variant.individualEnrollment) variant.individualEnrollment.registrationId = recased;
        variant.linkedHubs = reordered;

        const original = answer(serialised(body));
        const changed = answer(serialised(variant));
        expect(changed.status).toBe(original.status);
        expect(hubOf(changed)).toBe(hubOf(original));
      }),
    );
  });
});

describe('allocation outcomes that follow from the policy', () => {
  it('no linked hub at all is always a 400', () => {
    const answers = policies.map(([, policy]) => answerFor(policy));
    fc.assert(
      fc.property(validBodyArb({ linkedHubs: fc.constant([]) }), (body) => {
        for (const answer of answers) expectRejected(answer(serialised(body)));
      }),
    );
  });

  it('a sticky reprovisioned device keeps its linked current hub, whatever its letter case', () => {
    const { answer } = answererFor(stickyPolicy);
    fc.assert(
      fc.property(validBodyArb(), fc.mixedCase(fc.constantFrom(...KNOWN_HUBS)), (body, current) => {
        const runtime = body.deviceRuntimeContext as Record<string, unknown>;
        runtime.currentIotHubHostName = current;
        const linkedHubs = body.linkedHubs as string[];
        const linkedCurrent = linkedHubs.find((hub) => hub.toLowerCase() === current.toLowerCase());
        const result = answer(serialised(body));
        if (linkedCurrent !== undefined) {
          expect(hubOf(result)).toBe(linkedCurrent);
        } else {
          // Not linked any more: allocated as if it were new.
          delete runtime.currentIotHubHostName;
          expect(hubOf(result)).toBe(hubOf(answer(serialised(body))));
        }
      }),
    );
  });

  it('when every rule lacks a linked hub, the fallback allocates', () => {
    const { answer } = answererFor(fallbackPolicy);
    fc.assert(
      fc.property(validBodyArb(), (body) => {
        fc.pre((body.linkedHubs as string[]).length > 0);
        const result = answer(serialised(body));
        expect(result.status).toBe(200);
        expect(result.jsonBody).toMatchObject({ initialTwin: { tags: { allocatedBy: '(fallback)' } } });
      }),
    );
  });

  it('the default policy sends tutorial toasters to a linked toasters hub, or rejects them', () => {
    const answer = answerFor('default');
    const part = fc.string({ unit: fc.constantFrom(...REGISTRATION_ID_CHARACTERS), maxLength: 50 });
    const toasterId = fc.tuple(part, part).map(([a, b]) => `${a}-contoso-tstrsd-${b}`);
    fc.assert(
      fc.property(validBodyArb({ registrationId: toasterId }), (body) => {
        const linkedHubs = body.linkedHubs as string[];
        const result = answer(serialised(body));
        if (linkedHubs.some((hub) => /-toasters-/i.test(hub))) {
          expect(hubOf(result)).toMatch(/-toasters-/i);
          expect(result.jsonBody).toMatchObject({ initialTwin: { tags: { deviceType: 'toaster' } } });
        } else {
          expectRejected(result);
        }
      }),
    );
  });

  it('payloadMap with onMissing "hashed" hashes devices whose value is not in the map, whatever the value', () => {
    // A map is a plain object: values such as "constructor" or "toString" must not resolve to Object.prototype.
    const { answer } = answererFor({
      hubs: { toasters: { hostName: 'contoso-toasters-hub-1098.azure-devices.net' } },
      rules: [
        {
          name: 'models',
          strategy: { type: 'payloadMap', field: 'model', map: { toaster: 'toasters' }, onMissing: 'hashed' },
        },
      ],
    });
    const modelValue = fc.oneof(
      fc.string(),
      fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype)),
    );
    fc.assert(
      fc.property(
        validBodyArb({ linkedHubs: linkedHubsArb.filter((h) => h.length > 0) }),
        payloadArb,
        modelValue,
        (body, payload, model) => {
          const runtime = body.deviceRuntimeContext as Record<string, unknown>;
          runtime.payload = { ...payload, model };
          const result = answer(serialised(body));
          expect({ model, status: result.status, body: result.jsonBody }).toMatchObject({ status: 200 });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an answer built from a deeply nested payload value can still be serialised', () => {
    // A payload template may copy a device value ({{payload.x}}); a 200 whose jsonBody JSON.stringify cannot
    // serialise becomes a 500 in the Functions host, which DPS retries 10 times.
    const { answer } = answererFor({ rules: [{ name: 'echo', payload: { echo: '{{payload.deep}}' } }] });
    fc.assert(
      fc.property(
        validBodyArb({ linkedHubs: fc.constant(['hub-eu-1.azure-devices.net']) }),
        nestingDepth,
        (body, depth) => {
          expectWellFormed(answer(withDeepPayload(body, depth)));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rules without their own onNoCandidate follow defaults.onNoCandidate: every device with a linked hub is assigned', () => {
    // everyStrategyPolicy sets defaults.onNoCandidate = nextRule; a rule whose hubs are not linked must hand over.
    const { answer } = answererFor(everyStrategyPolicy);
    fc.assert(
      fc.property(validBodyArb(), (body) => {
        const payload = (body.deviceRuntimeContext as { payload?: Record<string, unknown> }).payload;
        const linkedHubs = body.linkedHubs as string[];
        // Only the named-hub rule may reject (its onMissing is reject): a payload.hub naming no linked hub.
        const namesHub = typeof payload?.hub === 'string' && /^hub-/u.test(payload.hub);
        fc.pre(linkedHubs.length > 0 && !namesHub);
        const result = answer(serialised(body));
        expect({ status: result.status, reason: result.log.reason }).toMatchObject({ status: 200 });
      }),
    );
  });

  it('the answer to a request does not depend on the requests answered before it', () => {
    // Host names are only known to be non-empty strings, so a cache keyed by joining them can confuse two lists.
    const token = fc.constantFrom('hub-a.x', 'hub-b.x', 'hub-c.x');
    const hubName = fc.array(token, { minLength: 1, maxLength: 2 }).map((parts) => parts.join('\n'));
    const bodies = fc.array(validBodyArb({ linkedHubs: fc.array(hubName, { minLength: 1, maxLength: 3 }) }), {
      minLength: 2,
      maxLength: 5,
    });
    fc.assert(
      fc.property(bodies, (sequence) => {
        const shared = answererFor(stickyPolicy).answer;
        for (const body of sequence) {
          const text = serialised(body);
          const alone = answererFor(stickyPolicy).answer(text);
          const afterOthers = shared(text);
          expect({ status: afterOthers.status, jsonBody: afterOthers.jsonBody }).toEqual({
            status: alone.status,
            jsonBody: alone.jsonBody,
          });
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('any valid request with any hub device counts, under a capacity-aware policy', () => {
  const { allocator } = answererFor(capacityPolicy);
  const answer = (body: unknown, hubLoad: HubLoadView) =>
    answerAllocationRequest(allocator, serialised(body), LIMITS, NOW, hubLoad);
  const policyHubs = Object.values(capacityPolicy.hubs ?? {});
  const hubOfPolicy = (host: string) =>
    policyHubs.find((h) => h.hostName.toLowerCase() === host.toLowerCase());
  const currentOf = (body: Record<string, unknown>) =>
    (body.deviceRuntimeContext as { currentIotHubHostName?: string }).currentIotHubHostName?.toLowerCase();

  it('gets a hub of its linkedHubs that may take it, or a 400 that names the capacity or linking reason', () => {
    fc.assert(
      fc.property(validBodyArb(), hubLoadArb(NOW), (body, hubLoad) => {
        const result = answer(body, hubLoad);
        expectWellFormed(result, body.linkedHubs as string[]);
        const hub = hubOf(result);
        if (hub === undefined) {
          expect(result.log.reason).toMatch(/every candidate is full or draining|is linked/);
          return;
        }
        // Only a device already on the hub may land on a draining or full one (sticky keeps it).
        const onIt = currentOf(body) === hub.toLowerCase();
        const policyHub = hubOfPolicy(hub);
        if (policyHub?.drain && !onIt) throw new Error(`assigned to draining ${hub}`);
        const devices = hubLoadUnusable(hubLoad, NOW) ? undefined : hubLoad.devices.get(hub.toLowerCase());
        const full =
          policyHub?.maxDevices !== undefined && devices !== undefined && devices >= policyHub.maxDevices;
        if (full && !onIt) throw new Error(`assigned to full ${hub} (${devices} of ${policyHub.maxDevices})`);
      }),
    );
  });

  it('gets the same answer for the same counts, whatever the order of linkedHubs and the case of the id', () => {
    const bodyWithVariant = validBodyArb().chain((body) => {
      const hubs = body.linkedHubs as string[];
      return fc.record({
        body: fc.constant(body),
        reordered: fc.shuffledSubarray(hubs, { minLength: hubs.length, maxLength: hubs.length }),
        recased: fc.mixedCase(fc.constant(registrationIdOf(body))),
      });
    });
    fc.assert(
      fc.property(bodyWithVariant, hubLoadArb(NOW), ({ body, reordered, recased }, hubLoad) => {
        const before = [...hubLoad.devices];
        const first = answer(body, hubLoad);
        expect(answer(body, hubLoad).jsonBody).toEqual(first.jsonBody);
        const variant = copyOf(body) as typeof body & {
          deviceRuntimeContext: { registrationId: string };
          individualEnrollment?: { registrationId: string };
        };
        variant.deviceRuntimeContext.registrationId = recased;
        if (variant.individualEnrollment) variant.individualEnrollment.registrationId = recased;
        variant.linkedHubs = reordered;
        const changed = answer(variant, hubLoad);
        expect(changed.status).toBe(first.status);
        // The static rule's aliases name one hub each, so no choice depends on the order of linkedHubs.
        expect(hubOf(changed)).toBe(hubOf(first));
        expect([...hubLoad.devices]).toEqual(before);
      }),
    );
  });
});

describe('certificate rules', () => {
  const CERTIFICATE_RULES = new Set(['eu-certificates', 'rotation-due', 'signed-by-contoso']);

  it('decide only X.509 devices whose request holds certificate details', () => {
    const { answer } = answererFor(everyStrategyPolicy);
    fc.assert(
      fc.property(generatedBodyArb(), ({ body, attestation, certificate }) => {
        const result = answer(serialised(body));
        expectWellFormed(result, body.linkedHubs as string[]);
        if (result.log.rule !== undefined && CERTIFICATE_RULES.has(result.log.rule)) {
          expect({ attestation, readable: certificate?.readable }).toEqual({
            attestation: 'x509',
            readable: true,
          });
        }
      }),
    );
  });

  it('match the organisation and expiry the certificate was given, whatever else it holds', () => {
    const { answer } = answererFor({
      rules: [
        { name: 'eu', match: { x509: { subject: { O: 'Contoso-EU' } } } },
        { name: 'soon', match: { x509: { notAfter: { within: '30d' } } } },
        { name: 'rest' },
      ],
    });
    fc.assert(
      fc.property(
        generatedBodyArb({ linkedHubs: linkedHubsArb.filter((h) => h.length > 0) }),
        (generated) => {
          const { attestation, certificate } = generated;
          const readable = attestation === 'x509' && certificate?.readable === true;
          const eu = readable && certificate.organisations.some((o) => o.toLowerCase() === 'contoso-eu');
          const soon =
            readable && certificate.notAfter !== undefined && certificate.notAfter <= NOW + 30 * DAY_MS;
          const expected = eu ? 'eu' : soon ? 'soon' : 'rest';
          expect({ certificate, rule: answer(serialised(generated.body)).log.rule }).toEqual({
            certificate,
            rule: expected,
          });
        },
      ),
    );
  });

  it('an x509 object of any shape never makes the request invalid', () => {
    const { answer } = answererFor(everyStrategyPolicy);
    const anyObject = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
    const x509Shaped = fc.record(
      {
        certificateInfo: fc.jsonValue({ maxDepth: 2 }),
        signingCertificateInfo: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(validBodyArb(), fc.oneof(anyObject, x509Shaped), (body, x509) => {
        (body.deviceRuntimeContext as Record<string, unknown>).x509 = x509;
        const result = answer(serialised(body));
        expect(result.log.outcome).not.toBe('invalid-request');
        expectWellFormed(result, body.linkedHubs as string[]);
      }),
    );
  });
});

describe('bodies that are not allocation requests get a 400 with a message', () => {
  const answer = answerFor(everyStrategyPolicy);

  it('arbitrary text', () => {
    // Any code point, lone surrogates included (built here: fast-check's 'binary' unit takes a second to set up).
    const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((code) => String.fromCodePoint(code));
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary-ascii' }), fc.string({ unit: anyCodePoint })),
        (text) => {
          expectRejected(answer(text));
        },
      ),
    );
  });

  it('arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (value) => {
        expectRejected(answer(JSON.stringify(value) ?? ''));
      }),
    );
  });

  it('JSON objects with the right top-level keys but random content', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            enrollmentGroup: fc.jsonValue(),
            individualEnrollment: fc.jsonValue(),
            deviceRuntimeContext: fc.jsonValue(),
            linkedHubs: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        (value) => {
          expectRejected(answer(serialised(value)));
        },
      ),
    );
  });

  it('valid bodies with one required field removed or one field of the wrong type', () => {
    fc.assert(
      fc.property(validBodyArb(), fc.nat(), fc.nat(), (body, pick, valuePick) => {
        const mutations = mutationsOf(body);
        const mutation = mutations[pick % mutations.length]!;
        const mutated = copyOf(body);
        mutation.apply(mutated, valuePick);
        const result = answer(serialised(mutated));
        expect({ mutation: mutation.name, status: result.status }).toEqual({
          mutation: mutation.name,
          status: 400,
        });
        expectWellFormed(result);
      }),
    );
  });

  it('truncated JSON', () => {
    fc.assert(
      fc.property(
        validBodyArb(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (body, at) => {
          const text = serialised(body);
          expectRejected(answer(text.slice(0, Math.floor(at * text.length))));
        },
      ),
    );
  });

  it('bodies above the size limit, counted in UTF-8 bytes', () => {
    const limit = 2048;
    const { allocator } = answererFor(stickyPolicy);
    const small = (body: string) => answerAllocationRequest(allocator, body, { maxBodyBytes: limit });
    fc.assert(
      fc.property(
        validBodyArb({ linkedHubs: fc.constant(['hub-eu-1.azure-devices.net']) }),
        fc.constantFrom('x', 'é', '€', '😀'),
        fc.integer({ min: -64, max: 4096 }),
        (body, filler, extra) => {
          const runtime = body.deviceRuntimeContext as Record<string, unknown>;
          runtime.payload = { padding: '' };
          const base = Buffer.byteLength(serialised(body));
          const fillerBytes = Buffer.byteLength(filler);
          const count = Math.max(0, Math.floor((limit - base + extra) / fillerBytes));
          runtime.payload = { padding: filler.repeat(count) };
          const text = serialised(body);
          const result = small(text);
          if (Buffer.byteLength(text) > limit) {
            expectRejected(result);
            expect((result.jsonBody as { error: string }).error).toMatch(/limit/);
          } else {
            expect(result.status).toBe(200);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('bodies above the default 128 KiB limit', () => {
    const answerDefault = answerFor('default');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 * 1024 }), (extra) => {
        const body = copyOf(officialSample) as typeof officialSample & {
          deviceRuntimeContext: { payload?: unknown };
        };
        body.deviceRuntimeContext.payload = { blob: 'a'.repeat(128 * 1024 + extra) };
        expectRejected(answerDefault(serialised(body)));
      }),
      { numRuns: 10 },
    );
  });

  it('deeply nested JSON instead of a request', () => {
    const { allocator } = answererFor(stickyPolicy);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60_000 }), fc.constantFrom('array', 'object'), (depth, kind) => {
        const [open, close] = kind === 'array' ? ['[', ']'] : ['{"a":', '}'];
        const inner = kind === 'array' ? '' : 'null';
        expectRejected(
          answerAllocationRequest(allocator, open.repeat(depth) + inner + close.repeat(depth), {
            maxBodyBytes: 1024 * 1024,
          }),
        );
      }),
      { numRuns: 30 },
    );
  });

  it('a deeply nested payload in a valid request is answered, never thrown on', () => {
    const answerDefault = answerFor('default');
    fc.assert(
      fc.property(validBodyArb(), nestingDepth, (body, depth) => {
        const text = withDeepPayload(body, depth);
        for (const answerWith of [answerDefault, answer]) {
          expectWellFormed(answerWith(text), body.linkedHubs as string[]);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('a payload that is not a JSON object', () => {
    const notAnObject = fc.oneof(
      fc.array(fc.jsonValue({ maxDepth: 2 })),
      fc.string(),
      fc.double(),
      fc.integer(),
      fc.boolean(),
    );
    fc.assert(
      fc.property(validBodyArb(), notAnObject, (body, payload) => {
        (body.deviceRuntimeContext as Record<string, unknown>).payload = payload;
        const result = answer(serialised(body));
        expectRejected(result);
        expect(JSON.stringify(result.jsonBody)).toMatch(/payload/);
      }),
    );
  });
});

/** The body's JSON with a payload nested `depth` arrays deep (built as text: JSON.stringify would overflow). */
function withDeepPayload(body: Record<string, unknown>, depth: number): string {
  (body.deviceRuntimeContext as Record<string, unknown>).payload = { deep: '<deep>' };
  return serialised(body).replace('"<deep>"', '['.repeat(depth) + ']'.repeat(depth));
}

interface Mutation {
  name: string;
  apply(body: Record<string, unknown>, valuePick: number): void;
}

/** Values of the wrong type for a field; `valuePick` chooses one. */
const NOT_A_STRING = [42, true, {}, ['a'], 1.5];
const NOT_AN_OBJECT = [42, true, 'text', ['a'], ''];
const NOT_AN_ARRAY = [42, true, 'hub.azure-devices.net', { 0: 'hub.azure-devices.net' }];

function mutationsOf(body: Record<string, unknown>): Mutation[] {
  const kind = 'enrollmentGroup' in body ? 'enrollmentGroup' : 'individualEnrollment';
  const at = (b: Record<string, unknown>, ...path: string[]): Record<string, unknown> =>
    path.reduce((node, key) => node[key] as Record<string, unknown>, b);
  const set = (name: string, path: string[], key: string, wrong: unknown[]): Mutation => ({
    name: `${[...path, key].join('.')} = ${name}`,
    apply: (b, pick) => {
      at(b, ...path)[key] = wrong[pick % wrong.length];
    },
  });
  const remove = (path: string[], key: string): Mutation => ({
    name: `remove ${[...path, key].join('.')}`,
    apply: (b) => {
      delete at(b, ...path)[key];
    },
  });
  const mutations: Mutation[] = [
    remove([], 'deviceRuntimeContext'),
    remove([], 'linkedHubs'),
    remove([], kind),
    remove(['deviceRuntimeContext'], 'registrationId'),
    remove([kind], 'attestation'),
    remove([kind, 'attestation'], 'type'),
    set('not an object', [], 'deviceRuntimeContext', [...NOT_AN_OBJECT, null]),
    set('not an object', [], kind, NOT_AN_OBJECT),
    set('not an array', [], 'linkedHubs', [...NOT_AN_ARRAY, null]),
    set('a list with a non-string', [], 'linkedHubs', [[42], ['hub.azure-devices.net', null], [''], [{}]]),
    set('not a string', ['deviceRuntimeContext'], 'registrationId', [...NOT_A_STRING, null, '']),
    set('too long', ['deviceRuntimeContext'], 'registrationId', ['a'.repeat(129)]),
    set('not a string', ['deviceRuntimeContext'], 'currentIotHubHostName', [...NOT_A_STRING, '']),
    set('not an object', ['deviceRuntimeContext'], 'payload', NOT_AN_OBJECT),
    set('not an object', ['deviceRuntimeContext'], 'symmetricKey', NOT_AN_OBJECT),
    set('not an object', ['deviceRuntimeContext'], 'x509', NOT_AN_OBJECT),
    set('not an object', [kind], 'attestation', [...NOT_AN_OBJECT, null]),
    set('not an attestation type', [kind, 'attestation'], 'type', ['', 42, null, {}]),
    set('not an object', [kind], 'capabilities', [42, 'edge', ['x']]),
    set('iotEdge not a boolean', [kind], 'capabilities', [
      { iotEdge: 1 },
      { iotEdge: 'true' },
      { iotEdge: {} },
    ]),
    {
      name: 'both enrollment kinds',
      apply: (b) => {
        const other = kind === 'enrollmentGroup' ? 'individualEnrollment' : 'enrollmentGroup';
        b[other] = { ...(b[kind] as object), enrollmentGroupId: 'g', registrationId: 'r' };
      },
    },
  ];
  if (kind === 'enrollmentGroup') {
    mutations.push(
      remove(['enrollmentGroup'], 'enrollmentGroupId'),
      set('not a string', ['enrollmentGroup'], 'enrollmentGroupId', [...NOT_A_STRING, null, '']),
    );
  } else {
    mutations.push(
      remove(['individualEnrollment'], 'registrationId'),
      set('not a string', ['individualEnrollment'], 'registrationId', [...NOT_A_STRING, null, '']),
    );
  }
  return mutations;
}

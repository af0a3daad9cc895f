import { compilePolicy } from '../../../src/allocation/engine';
import { parsePolicy } from '../../../src/allocation/policy';
import type { Policy, PolicyInput } from '../../../src/allocation/policy-schema';
import { answerAllocationRequest } from '../../../src/allocation/webhook';
import { idsFromList, idsFromPattern } from '../../../src/cli/policy/device-ids';
import { loadPolicy } from '../../../src/allocation/policy-source';
import { simulate, type Scenario, type SimulationInput } from '../../../src/cli/policy/simulate';
import { certificateFleet } from '../../../src/cli/policy/simulated-certificates';
import { renderSimulation } from '../../../src/cli/policy/simulate-report';
import { UsageError } from '../../../src/cli/shared/usage-error';
import { EQUAL_HUBS, NEW_HUB } from './support/policy-files';

const webhook = { maxBodyBytes: 128 * 1024 };
// Jest's vm context makes the hash ~10x slower than plain Node (see test/allocation/run-in-worker.ts): few devices.
const DEVICES = 5_000;
const policyOf = (input: PolicyInput): Policy => parsePolicy(input, 'test');
const hashedEverywhere = policyOf({ rules: [{ name: 'all' }] });
const scenario = (
  linkedHubs: readonly string[],
  policy = hashedEverywhere,
  policySource = 'p.json',
): Scenario => ({
  policySource,
  policy,
  linkedHubs,
});
const run = (before: Scenario, after?: Scenario, extra: Partial<SimulationInput> = {}) =>
  simulate({
    ids: idsFromPattern('device-{n}', DEVICES),
    groupId: 'simulated',
    before,
    after,
    webhook,
    ...extra,
  });

describe('simulate: one scenario', () => {
  it('spreads devices over equal hubs by the hash, and says what the weights expect', () => {
    const result = run(scenario(EQUAL_HUBS));
    expect(result.after).toBeNull();
    expect(result.comparison).toBeNull();
    for (const hub of result.before.hubs) {
      expect(hub.share).toBeCloseTo(0.25, 1);
      expect(hub.expectedShare).toBeCloseTo(0.25, 10);
    }
    expect(result.before.hubs.reduce((sum, hub) => sum + hub.devices, 0)).toBe(DEVICES);
    expect(result.before.rules).toEqual([{ rule: 'all', devices: DEVICES }]);
  });

  it('expects shares from policy weights, and none where static chooses', () => {
    const policy = policyOf({
      hubs: { heavy: { hostName: EQUAL_HUBS[0]!, weight: 3 } },
      rules: [
        {
          name: 'toasters',
          match: { registrationId: '*-tstrsd-*' },
          hubs: [EQUAL_HUBS[3]!],
          strategy: { type: 'static' },
        },
        { name: 'rest', hubs: [EQUAL_HUBS[0]!, EQUAL_HUBS[1]!] },
      ],
    });
    const ids = Array.from({ length: DEVICES }, (_, n) =>
      n % 4 === 0 ? `kitchen-tstrsd-${n}` : `sensor-${n}`,
    );
    const result = run(scenario(EQUAL_HUBS, policy), undefined, { ids: idsFromList(ids.join('\n'), 'ids') });
    const [heavy, light, unused, fixed] = result.before.hubs;
    // 3/4 of the devices are hashed 3:1 over heavy and light; 1/4 go to the static hub.
    expect(heavy!.expectedShare).toBeCloseTo(0.75 * 0.75, 10);
    expect(heavy!.share).toBeCloseTo(0.75 * 0.75, 1);
    expect(light!.expectedShare).toBeCloseTo(0.75 * 0.25, 10);
    expect(fixed!.share).toBe(0.25);
    expect(unused).toMatchObject({ devices: 0, expectedShare: 0 });
    expect(fixed!.expectedShare).toBeNull();
  });

  it('expects nothing from devices the chosen hub then rejected', () => {
    // The rendered twin breaks the 8 KB tag limit, so every hashed choice ends in a 400.
    const policy = policyOf({
      rules: [{ name: 'big', initialTwin: { tags: { blob: '{{payload.blob}}' } } }],
    });
    const result = run(scenario(EQUAL_HUBS, policy), undefined, { payload: { blob: 'x'.repeat(9000) } });
    expect(result.before.rejected.devices).toBe(DEVICES);
    expect(result.before.hubs.map((hub) => hub.expectedShare)).toEqual([0, 0, 0, 0]);
  });

  it('groups rejection reasons, with the registration id taken out', () => {
    const policy = policyOf({
      rules: [{ name: 'toasters', match: { registrationId: '*-tstrsd-*' } }],
      fallback: { action: 'reject', message: 'unknown device type' },
    });
    const result = run(scenario(EQUAL_HUBS, policy));
    expect(result.before.rejected).toEqual({
      devices: DEVICES,
      share: 1,
      reasons: [{ reason: "unknown device type (no rule matches registration '<id>')", devices: DEVICES }],
    });
    expect(result.before.rules).toEqual([{ rule: '(no rule)', devices: DEVICES }]);
  });

  it('agrees with the webhook device by device', () => {
    const policy = policyOf({
      rules: [
        { name: 'toasters', match: { registrationId: '*-tstrsd-*' }, hubs: [EQUAL_HUBS[0]!] },
        { name: 'rest', hubs: EQUAL_HUBS.slice(1) },
      ],
    });
    const allocator = compilePolicy(policy);
    for (const id of ['a-tstrsd-1', 'sensor-7', 'sensor-8', 'SENSOR-9', 'x']) {
      const result = simulate({
        ids: idsFromList(id, 'ids'),
        groupId: 'g',
        before: scenario(EQUAL_HUBS, policy),
        webhook,
      });
      const body = {
        enrollmentGroup: { enrollmentGroupId: 'g', attestation: { type: 'symmetricKey' } },
        deviceRuntimeContext: { registrationId: id, symmetricKey: {} },
        linkedHubs: EQUAL_HUBS,
      };
      const answer = answerAllocationRequest(allocator, JSON.stringify(body), webhook);
      const chosen = result.before.hubs.find((hub) => hub.devices === 1)?.hub;
      expect(chosen).toBe((answer.jsonBody as { iotHubHostName: string }).iotHubHostName);
    }
  });

  it('sends the payload with every device', () => {
    const policy = policyOf({ rules: [{ name: 'eu', match: { payload: { region: { equals: 'eu' } } } }] });
    const result = run(scenario(EQUAL_HUBS, policy), undefined, { payload: { region: 'eu' } });
    expect(result.before.assigned).toBe(DEVICES);
  });

  it('refuses a payload the webhook would refuse, with the webhook reason', () => {
    expect(() =>
      run(scenario(EQUAL_HUBS), undefined, { payload: [1] as unknown as Record<string, unknown> }),
    ).toThrow(
      new UsageError(
        'the simulated request is invalid; the webhook would answer 400: request body is not a DPS allocation request: deviceRuntimeContext.payload: payload must be a JSON object',
      ),
    );
  });
});

describe('simulate: comparisons', () => {
  it('adding a fifth equal hub moves about a fifth of the devices, all to the new hub', () => {
    const result = run(scenario(EQUAL_HUBS), scenario([...EQUAL_HUBS, NEW_HUB]));
    const comparison = result.comparison!;
    expect(comparison.movedShare).toBeGreaterThan(0.18);
    expect(comparison.movedShare).toBeLessThan(0.22);
    expect(comparison.moves.every((move) => move.to === NEW_HUB)).toBe(true);
    expect(comparison.moves.map((move) => move.from)).toEqual(EQUAL_HUBS);
    expect(result.after!.hubs.find((hub) => hub.hub === NEW_HUB)!.devices).toBe(comparison.moved);
    expect(result.before.hubs.find((hub) => hub.hub === NEW_HUB)).toMatchObject({
      linked: false,
      devices: 0,
    });
  });

  it('removing a hub moves only its devices, spread over the others', () => {
    const removed = EQUAL_HUBS[2]!;
    const result = run(scenario(EQUAL_HUBS), scenario(EQUAL_HUBS.filter((hub) => hub !== removed)));
    const comparison = result.comparison!;
    const onRemoved = result.before.hubs.find((hub) => hub.hub === removed)!.devices;
    expect(comparison.moved).toBe(onRemoved);
    expect(comparison.moves.every((move) => move.from === removed)).toBe(true);
    expect(comparison.moves).toHaveLength(3);
    expect(comparison.newlyRejected).toEqual([]);
  });

  it('compares two policies over the same devices, counting newly rejected devices', () => {
    const toastersOnly = policyOf({
      rules: [
        { name: 'toasters', match: { registrationId: '*-tstrsd-*' }, hubs: [EQUAL_HUBS[0]!] },
        { name: 'rest', hubs: EQUAL_HUBS.slice(1) },
      ],
    });
    const strict = policyOf({
      rules: [{ name: 'toasters', match: { registrationId: '*-tstrsd-*' }, hubs: [EQUAL_HUBS[0]!] }],
    });
    const ids = idsFromList(
      ['a-tstrsd-1', 'b-tstrsd-2', 'sensor-1', 'sensor-2', 'sensor-3'].join('\n'),
      'ids',
    );
    const result = simulate({
      ids,
      groupId: 'g',
      before: scenario(EQUAL_HUBS, toastersOnly, 'old.json'),
      after: scenario(EQUAL_HUBS, strict, 'new.json'),
      webhook,
    });
    expect(result.comparison).toMatchObject({ moved: 0, newlyAssigned: [] });
    expect(result.comparison!.newlyRejected.reduce((sum, e) => sum + e.devices, 0)).toBe(3);
    expect(result.after!.rejected.devices).toBe(3);
    expect(result.after!.rules).toEqual([
      { rule: 'toasters', devices: 2 },
      { rule: '(no rule)', devices: 3 },
    ]);
    const text = renderSimulation(result);
    expect(text).toContain('Before: policy old.json');
    expect(text).toContain('After:  policy new.json');
    expect(text).toMatch(/Newly rejected: 3 \(from /);
  });
});

describe('simulate: an X.509 fleet', () => {
  const NOW = Date.parse('2026-06-01T00:00:00.000Z');
  const [eu1, eu2, us1] = ['contoso-eu-1', 'contoso-eu-2', 'contoso-us-1'].map(
    (h) => `${h}.azure-devices.net`,
  );
  const example = loadPolicy({ ALLOCATION_POLICY_PATH: 'policies/examples/x509-organisation-regions.json' });
  const fleetRun = (
    count: number,
    organisations = 'Contoso-EU:2,Contoso-US,Fabrikam',
    expiry = '1d..400d',
  ) => {
    const certificates = certificateFleet({ organisations, expiry }, NOW, count);
    return simulate({
      ids: idsFromPattern('meter-{n}', count),
      groupId: 'meters',
      certificates,
      now: NOW,
      before: scenario([eu1!, eu2!, us1!], example, 'x509.json'),
      webhook,
    });
  };

  it('sends each organisation to its region, and counts devices per organisation and hub', () => {
    const result = fleetRun(2_000);
    const byOrganisation = Object.fromEntries(
      result.before.organisations!.map((tally) => [
        tally.organisation,
        Object.fromEntries(tally.hubs.map((hub) => [hub.hub, hub.devices])),
      ]),
    );
    expect(result.before.organisations!.map((t) => [t.organisation, t.devices, t.rejected])).toEqual([
      ['Contoso-EU', 1_000, 0],
      ['Contoso-US', 500, 0],
      ['Fabrikam', 500, 0],
    ]);
    expect(byOrganisation['Contoso-US']).toEqual({ [eu1!]: 0, [eu2!]: 0, [us1!]: 500 });
    expect(byOrganisation['Contoso-EU']![us1!]).toBe(0);
    expect(byOrganisation['Contoso-EU']![eu1!]).toBeGreaterThan(0);
    expect(byOrganisation['Contoso-EU']![eu2!]).toBeGreaterThan(0);
    const rules = Object.fromEntries(result.before.rules.map((r) => [r.rule, r.devices]));
    expect(rules['(fallback)']).toBe(500);
    // notAfter is spread evenly over 1 to 400 days: 29 of those 399 days fall within 30 days.
    expect(rules['eu-rotation-due']! / 1_000).toBeCloseTo(29 / 399, 2);
    expect(rules['eu-rotation-due']! + rules.eu!).toBe(1_000);
    expect(result.evaluatedAt).toBe('2026-06-01T00:00:00.000Z');
  });

  it('agrees with the webhook device by device', () => {
    const count = 40;
    const certificates = certificateFleet(
      { organisations: 'Contoso-EU,Contoso-US', expiry: '1d..60d' },
      NOW,
      count,
    );
    const allocator = compilePolicy(example);
    const result = fleetRun(count, 'Contoso-EU,Contoso-US', '1d..60d');
    const expected = new Map<string, number>();
    const expectedRules = new Map<string, number>();
    for (let n = 0; n < count; n++) {
      const certificateInfo: Record<string, unknown> = {};
      certificates.fill(certificateInfo, n, `meter-${n}`);
      const body = {
        enrollmentGroup: { enrollmentGroupId: 'meters', attestation: { type: 'x509' } },
        deviceRuntimeContext: { registrationId: `meter-${n}`, x509: { certificateInfo } },
        linkedHubs: [eu1, eu2, us1],
      };
      const answer = answerAllocationRequest(allocator, JSON.stringify(body), webhook, NOW);
      const hub = (answer.jsonBody as { iotHubHostName: string }).iotHubHostName;
      expected.set(hub, (expected.get(hub) ?? 0) + 1);
      expectedRules.set(answer.log.rule!, (expectedRules.get(answer.log.rule!) ?? 0) + 1);
    }
    expect(new Map(result.before.hubs.map((hub) => [hub.hub, hub.devices]))).toEqual(expected);
    expect(new Map(result.before.rules.map((r) => [r.rule, r.devices]))).toEqual(expectedRules);
    expect(expectedRules.get('eu-rotation-due')).toBeGreaterThan(0);
  });

  it('reports the fleet and the organisation table', () => {
    const text = renderSimulation(fleetRun(300));
    expect(text).toContain(
      "enrollment group 'meters', X.509: subject 'CN={id}, O={org}', O in turn: Contoso-EU ×2",
    );
    expect(text).toContain('expiry judged at 2026-06-01T00:00:00.000Z');
    expect(text).toMatch(
      /^Certificate O +contoso-eu-1\.azure-devices\.net +contoso-eu-2\.azure-devices\.net +contoso-us-1\.azure-devices\.net +\(rejected\)$/m,
    );
    expect(text).toMatch(/^Contoso-US +0 +0 +75 +0$/m);
  });

  it('symmetric-key devices never reach a certificate rule', () => {
    const result = simulate({
      ids: idsFromPattern('meter-{n}', 100),
      groupId: 'meters',
      before: scenario([eu1!, eu2!, us1!], example),
      webhook,
    });
    expect(result.before.rules).toEqual([{ rule: '(fallback)', devices: 100 }]);
    expect(result.before.organisations).toBeNull();
    expect(result.certificates).toBeNull();
  });
});

describe('simulate: a fleet landing on hubs with device counts', () => {
  const capacityAware = loadPolicy({ ALLOCATION_POLICY_PATH: 'policies/examples/capacity-aware.json' });
  const [hub1, hub2, hub3] = [1, 2, 3].map((n) => `contoso-hub-${n}.azure-devices.net`) as [
    string,
    string,
    string,
  ];
  const landing = (devices: number, counts: Record<string, number>, after?: Scenario) =>
    simulate({
      ids: idsFromPattern('sensor-{n}', devices),
      groupId: 'sensors',
      before: scenario([hub1, hub2, hub3], capacityAware, 'capacity-aware.json'),
      after,
      webhook,
      hubLoad: new Map(Object.entries(counts)),
    });

  it('each assignment counts, so leastLoaded levels the hubs; a draining hub takes none', () => {
    const result = landing(5000, { [hub1]: 4000, [hub3]: 5500 });
    // hub2 takes 4,000 devices to catch up with hub1, then the two share the rest by the hash.
    expect(result.before.hubLoad).toEqual([
      { hub: hub1, start: 4000, added: 500, end: 4500, maxDevices: 6000, fill: 0.75, draining: false },
      { hub: hub2, start: 0, added: 4500, end: 4500, maxDevices: 6000, fill: 0.75, draining: false },
      { hub: hub3, start: 5500, added: 0, end: 5500, maxDevices: 6000, fill: 5500 / 6000, draining: true },
    ]);
    expect(result.before.hubs.map((hub) => hub.devices)).toEqual([500, 4500, 0]);
    expect(result.before.capacityAware).toBe(true);
  });

  it('rejects the devices beyond the caps, saying why', () => {
    const result = landing(6000, { [hub1]: 4000, [hub2]: 3000 });
    expect(result.before.hubLoad!.map((tally) => tally.end)).toEqual([6000, 6000, 0]);
    expect(result.before.rejected.reasons).toEqual([
      {
        reason: `rule 'fleet': every candidate is full or draining (${hub1}: full, 6000 devices of maxDevices 6000; ${hub2}: full, 6000 devices of maxDevices 6000; ${hub3}: draining)`,
        devices: 1000,
      },
    ]);
  });

  it('gives each scenario its own counts, from the same start', () => {
    const hub4 = 'contoso-hub-4.azure-devices.net';
    const withFourth = policyOf({
      hubs: {
        ...capacityAware.hubs,
        hub4: { hostName: hub4, maxDevices: 6000 },
      },
      defaults: { strategy: { type: 'leastLoaded' } },
      rules: [{ name: 'fleet', hubs: ['hub1', 'hub2', 'hub3', 'hub4'] }],
    });
    const result = landing(
      4000,
      { [hub1]: 5000, [hub2]: 5000 },
      scenario([hub1, hub2, hub3, hub4], withFourth),
    );
    expect(result.before.hubLoad!.map((tally) => tally.end)).toEqual([6000, 6000, 0]);
    expect(result.before.rejected.devices).toBe(2000);
    // The new, emptiest hub takes every device: it stays the least filled.
    expect(result.after!.hubLoad!.map((tally) => tally.end)).toEqual([5000, 5000, 0, 4000]);
    expect(result.after!.rejected.devices).toBe(0);
    const text = renderSimulation(result);
    expect(text).toMatch(/^Hub load \(before\) +Start +Added +End +maxDevices +Fill +State$/m);
    expect(text).toMatch(
      new RegExp(`^${hub3.replaceAll('.', '\\.')} +0 +0 +0 +6,000 +0\\.0% +draining$`, 'm'),
    );
    expect(text).toMatch(
      new RegExp(`^${hub1.replaceAll('.', '\\.')} +5,000 +1,000 +6,000 +6,000 +100\\.0% +full$`, 'm'),
    );
  });

  it('expects hashed shares over the candidates each device had: a hub that fills up leaves the choice', () => {
    const [first, ...others] = EQUAL_HUBS as [string, ...string[]];
    const policy = policyOf({
      hubs: { capped: { hostName: first, maxDevices: 1000 } },
      rules: [{ name: 'all', strategy: { type: 'hashed' } }],
    });
    const result = simulate({
      ids: idsFromPattern('device-{n}', 4000),
      groupId: 'g',
      before: scenario(EQUAL_HUBS, policy),
      webhook,
      hubLoad: new Map([[first, 900]]),
    });
    const [capped, ...rest] = result.before.hubs;
    expect(capped!.devices).toBe(100);
    // About 400 devices chose among all four (a quarter of them expected here), the rest among the other three.
    const expectedOnCapped = capped!.expectedShare! * 4000;
    expect(expectedOnCapped).toBeGreaterThan(60);
    expect(expectedOnCapped).toBeLessThan(140);
    for (const hub of rest) expect(hub.expectedShare!).toBeCloseTo(hub.share, 1);
    expect(rest.map((hub) => hub.hub)).toEqual(others);
  });

  it('without counts decides as allocate does before its first read, and says so', () => {
    const result = simulate({
      ids: idsFromPattern('sensor-{n}', 1000),
      groupId: 'sensors',
      before: scenario([hub1, hub2, hub3], capacityAware),
      webhook,
    });
    expect(result.before.hubLoad).toBeNull();
    expect(result.before.hubs.map((hub) => hub.devices > 0)).toEqual([true, true, false]);
    expect(renderSimulation(result)).toContain(
      'No --hub-load: decided as allocate does before it has hub device counts',
    );
    expect(renderSimulation(run(scenario(EQUAL_HUBS)))).not.toContain('--hub-load');
  });
});

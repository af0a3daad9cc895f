// The hashed strategy spreads devices by weight, and changing the hub set moves only the devices that must move
// (weighted rendezvous hashing). Measured through the engine (compilePolicy/decide) over 100,000 registration ids.
import fc from 'fast-check';
import path from 'node:path';
import { randomRegistrationId } from './support/dps-arbitraries';
import { assignHubs, deviceIds, hashedAllocator, type HashScenario } from './support/hash-scenarios';
import { runInWorker } from './support/run-in-worker';

fc.configureGlobal({ seed: 0x4a5b1e, numRuns: 100 });

const DEVICE_COUNT = 100_000;
/** Allowed distance between a hub's share of devices and its share of the weight, in percentage points. */
const TOLERANCE_POINTS = 2;

const hubHost = (n: number) => `iot-hub-${n}.azure-devices.net`;
const FOUR_HUBS = [1, 2, 3, 4].map(hubHost);
const FIVE_HUBS = [...FOUR_HUBS, hubHost(5)];
const REMOVED_HUB = FIVE_HUBS[1]!;

const SCENARIOS = {
  weighted1234: {
    weights: Object.fromEntries(FOUR_HUBS.map((hub, i) => [hub, i + 1])),
    linkedHubs: FOUR_HUBS,
  },
  equalFour: { weights: {}, linkedHubs: FOUR_HUBS },
  equalFive: { weights: {}, linkedHubs: FIVE_HUBS },
  fiveWithoutOne: { weights: {}, linkedHubs: FIVE_HUBS.filter((hub) => hub !== REMOVED_HUB) },
  thirdWeighsThree: { weights: { [FOUR_HUBS[2]!]: 3 }, linkedHubs: FOUR_HUBS },
} satisfies Record<string, HashScenario>;
type ScenarioName = keyof typeof SCENARIOS;

/** Share of devices per hub, in percent. */
function sharesOf(assigned: readonly string[], hubs: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>(hubs.map((hub) => [hub, 0]));
  for (const hub of assigned) counts.set(hub, (counts.get(hub) ?? 0) + 1);
  return Object.fromEntries([...counts].map(([hub, count]) => [hub, (100 * count) / assigned.length]));
}

function expectSharesNear(shares: Record<string, number>, expected: Record<string, number>): void {
  expect(Object.keys(shares).sort()).toEqual(Object.keys(expected).sort());
  for (const [hub, percent] of Object.entries(expected)) {
    expect(Math.abs(shares[hub]! - percent)).toBeLessThanOrEqual(TOLERANCE_POINTS);
  }
}

describe('hashed distribution over 100,000 registration ids', () => {
  const assigned = {} as Record<ScenarioName, string[]>;

  beforeAll(async () => {
    const names = Object.keys(SCENARIOS) as ScenarioName[];
    const indices = await runInWorker<Uint8Array[]>(
      path.join(__dirname, 'support', 'hash-scenarios.ts'),
      'assignScenarios',
      [names.map((name) => SCENARIOS[name]), DEVICE_COUNT],
    );
    names.forEach((name, s) => {
      const hubs = SCENARIOS[name].linkedHubs;
      assigned[name] = Array.from(indices[s]!, (i) => hubs[i]!);
    });
  });

  it('the worker computed what the engine decides in this process (checked on every 250th id)', () => {
    const every = (list: readonly string[]) => list.filter((_, i) => i % 250 === 0);
    const ids = every(deviceIds(DEVICE_COUNT));
    expect(new Set(ids).size).toBe(DEVICE_COUNT / 250);
    for (const name of Object.keys(SCENARIOS) as ScenarioName[]) {
      const { weights, linkedHubs } = SCENARIOS[name];
      expect(assignHubs(hashedAllocator(weights), linkedHubs, ids)).toEqual(every(assigned[name]));
    }
  });

  it('gives 4 hubs weighted 1, 2, 3, 4 shares of 10/20/30/40% (±2 points)', () => {
    expectSharesNear(
      sharesOf(assigned.weighted1234, FOUR_HUBS),
      Object.fromEntries(FOUR_HUBS.map((hub, i) => [hub, (i + 1) * 10])),
    );
  });

  it('gives 4 equally weighted hubs 25% each (±2 points)', () => {
    expectSharesNear(
      sharesOf(assigned.equalFour, FOUR_HUBS),
      Object.fromEntries(FOUR_HUBS.map((hub) => [hub, 25])),
    );
  });

  it('adding a 5th hub to 4 equal ones moves 20% (±2 points) of the devices, all of them to the new hub', () => {
    const before = assigned.equalFour;
    const movedTo = assigned.equalFive.filter((hub, i) => hub !== before[i]);
    expect(new Set(movedTo)).toEqual(new Set([FIVE_HUBS[4]]));
    expect(Math.abs((100 * movedTo.length) / DEVICE_COUNT - 20)).toBeLessThanOrEqual(TOLERANCE_POINTS);
  });

  it("removing a hub moves only that hub's devices, and spreads them evenly over the others", () => {
    const before = assigned.equalFive;
    const after = assigned.fiveWithoutOne;
    const moved = before.flatMap((hub, i) => (hub !== after[i] ? [i] : []));
    expect(moved.length).toBe(before.filter((hub) => hub === REMOVED_HUB).length);
    expect(moved.every((i) => before[i] === REMOVED_HUB)).toBe(true);
    // About 20,000 orphans over 4 hubs: 25% each; the same ±2 points, relative to the orphans.
    expectSharesNear(
      sharesOf(
        moved.map((i) => after[i]!),
        SCENARIOS.fiveWithoutOne.linkedHubs,
      ),
      Object.fromEntries(SCENARIOS.fiveWithoutOne.linkedHubs.map((hub) => [hub, 25])),
    );
  });

  it('raising one hub weight moves devices only onto that hub, up to its new share', () => {
    const before = assigned.equalFour;
    const after = assigned.thirdWeighsThree;
    const movedTo = new Set(after.filter((hub, i) => hub !== before[i]));
    expect(movedTo).toEqual(new Set([FOUR_HUBS[2]]));
    // Weights 1, 1, 3, 1: the heavy hub takes 50%.
    expectSharesNear(
      sharesOf(after, FOUR_HUBS),
      Object.fromEntries(FOUR_HUBS.map((hub, i) => [hub, i === 2 ? 50 : 50 / 3])),
    );
  });
});

describe('hashed choice over random hub sets and weights', () => {
  const hubSet = fc
    .uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 })
    .chain((ns) =>
      fc.tuple(
        fc.constant(ns.map(hubHost)),
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: ns.length, maxLength: ns.length }),
      ),
    );
  const ids = fc.uniqueArray(randomRegistrationId, { minLength: 1, maxLength: 30 });
  const weightsOf = (hubs: string[], weights: number[]) =>
    Object.fromEntries(hubs.map((hub, i) => [hub, weights[i]!]));

  it('adding a hub moves devices only to the added hub; removing it again moves them back', () => {
    fc.assert(
      fc.property(
        hubSet,
        fc.integer({ min: 41, max: 60 }),
        fc.integer({ min: 1, max: 1000 }),
        ids,
        ([hubs, weights], extra, extraWeight, sample) => {
          const added = hubHost(extra);
          const allocator = hashedAllocator({ ...weightsOf(hubs, weights), [added]: extraWeight });
          const before = assignHubs(allocator, hubs, sample);
          const after = assignHubs(allocator, [...hubs, added], sample);
          after.forEach((hub, i) => {
            if (hub !== before[i]) expect(hub).toBe(added);
          });
          expect(assignHubs(allocator, hubs, sample)).toEqual(before);
        },
      ),
    );
  });

  it('does not depend on the order or the letter case of linkedHubs', () => {
    fc.assert(
      fc.property(hubSet, ids, fc.func(fc.boolean()), ([hubs, weights], sample, upper) => {
        const allocator = hashedAllocator(weightsOf(hubs, weights));
        const variant = [...hubs].reverse().map((hub, i) => (upper(i) ? hub.toUpperCase() : hub));
        const original = assignHubs(allocator, hubs, sample);
        const changed = assignHubs(allocator, variant, sample);
        expect(changed.map((hub) => hub.toLowerCase())).toEqual(original);
      }),
    );
  });
});

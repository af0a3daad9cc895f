// Hub assignments of many devices under hashed policies, computed through the engine. Used by
// hash-properties.test.ts, in the test itself for small samples and in a worker thread for 100,000 ids.
import fc from 'fast-check';
import { compilePolicy, type Allocator } from '../../../src/allocation/engine';
import { parsePolicy } from '../../../src/allocation/policy';
import type { PolicyInput } from '../../../src/allocation/policy-schema';
import type { AllocationRequest } from '../../../src/allocation/request';
import { randomRegistrationId } from './dps-arbitraries';

export interface HashScenario {
  /** Host name -> weight; hubs not listed weigh 1. */
  weights: Record<string, number>;
  linkedHubs: string[];
}

/** `count` distinct registration ids, always the same: sequential styles plus a seeded fast-check sample. */
export function deviceIds(count: number): string[] {
  const ids = new Set<string>();
  const add = (limit: number, make: (i: number) => string) => {
    for (let i = 0; ids.size < Math.min(limit, count); i++) ids.add(make(i));
  };
  add(count * 0.3, (i) => `device-${i}`);
  add(count * 0.45, (i) => `sn-${(0x5e000000 + i * 7919).toString(16)}`);
  add(count * 0.55, (i) => `building${i % 97}.floor${i % 13}:sensor_${i}`);
  const sampled = fc.sample(randomRegistrationId, { numRuns: Math.ceil(count * 0.35), seed: 7 });
  for (const id of sampled) {
    if (ids.size >= count) break;
    ids.add(id);
  }
  add(count, (i) => `gw-${i}-edge`);
  return [...ids];
}

export function hashedAllocator(weights: Record<string, number>): Allocator {
  const hubs = Object.fromEntries(
    Object.entries(weights).map(([hostName, weight], i) => [`hub${i}`, { hostName, weight }]),
  );
  const policy: PolicyInput = { hubs, rules: [{ name: 'spread', strategy: { type: 'hashed' } }] };
  return compilePolicy(parsePolicy(policy, 'hash test policy'));
}

function requestFor(registrationId: string, linkedHubs: readonly string[]): AllocationRequest {
  return {
    enrollmentGroup: { enrollmentGroupId: 'fleet', attestation: { type: 'symmetricKey' } },
    deviceRuntimeContext: { registrationId, symmetricKey: {} },
    linkedHubs: [...linkedHubs],
  };
}

/** The hub the engine assigns to each id, in order. */
export function assignHubs(
  allocator: Allocator,
  linkedHubs: readonly string[],
  ids: readonly string[],
): string[] {
  return ids.map((id) => {
    const decision = allocator.decide(requestFor(id, linkedHubs));
    if (decision.hub === undefined) throw new Error(`no hub for '${id}': ${decision.reason}`);
    return decision.hub;
  });
}

/** Worker entry: per scenario, the index in its linkedHubs of the hub each of deviceIds(count) gets. */
export function assignScenarios(scenarios: HashScenario[], count: number): Uint8Array[] {
  const ids = deviceIds(count);
  return scenarios.map(({ weights, linkedHubs }) => {
    const hubs = assignHubs(hashedAllocator(weights), linkedHubs, ids);
    return Uint8Array.from(hubs, (hub) => linkedHubs.indexOf(hub));
  });
}

// Strategies choose one hub among a rule's candidates.
import { rendezvousIndex, weightedCandidate } from './hash';
import type { HubInfo } from './hub-selection';
import { selectorKind } from './hub-selection';
import { parseDottedPath, valueAt } from './json-path';
import { compileLeastLoaded } from './least-loaded';
import { memoizeByArray } from './memoize-by-array';
import type { Hub, Strategy } from './policy-schema';

export interface StrategyInput {
  /** Lower-cased registration id: DPS ids are case-insensitive. */
  registrationKey: string;
  candidates: readonly string[];
  payload: Record<string, unknown> | undefined;
  /** Devices per hub by lower-case host name (HubLoadView.devices); undefined when the counts are unusable. */
  hubCounts: ReadonlyMap<string, number> | undefined;
  /** Why the counts are unusable (hubLoadUnusable), when they are. */
  hubCountsUnusable: string | undefined;
  /** hubCounts already read for each candidate (NaN: none), when the capacity check read them; else undefined. */
  candidateCounts: ArrayLike<number> | undefined;
}

export type StrategyOutcome = { hub: string; reason: string } | { reject: string };

export type StrategyFn = (input: StrategyInput) => StrategyOutcome;

export interface StrategyEnvironment {
  hubs: Readonly<Record<string, Hub>>;
  regions: Readonly<Record<string, readonly string[]>>;
  directory: (hostName: string) => HubInfo;
}

export function compileStrategy(strategy: Strategy, env: StrategyEnvironment): StrategyFn {
  const weightsOf = memoizeByArray((among: readonly string[]) =>
    among.map((hub) => weightedCandidate(hub, env.directory(hub).weight)),
  );
  const hashed = (input: StrategyInput, among: readonly string[], reason: string) => ({
    hub: among[rendezvousIndex(input.registrationKey, weightsOf(among))]!,
    reason,
  });
  switch (strategy.type) {
    case 'static':
      return ({ candidates }) => ({
        hub: candidates[0]!,
        reason: 'static: first candidate in preference order',
      });
    case 'hashed':
      return (input) =>
        hashed(input, input.candidates, 'hashed: weighted rendezvous hash of the registration id');
    case 'geo':
      return compileGeo(strategy, env, hashed);
    case 'payloadMap':
      return compilePayloadMap(strategy, env, hashed);
    case 'leastLoaded':
      return compileLeastLoaded(env.directory);
  }
}

type Hashed = (input: StrategyInput, among: readonly string[], reason: string) => StrategyOutcome;

function compileGeo(
  strategy: Extract<Strategy, { type: 'geo' }>,
  env: StrategyEnvironment,
  hashed: Hashed,
): StrategyFn {
  const path = parseDottedPath(strategy.regionField);
  const regionTable = new Map(
    Object.entries(env.regions).map(([region, nearest]) => [
      region.toLowerCase(),
      nearest.map((r) => r.toLowerCase()),
    ]),
  );
  const onUnknown = strategy.onUnknownRegion ?? 'hashed';
  const tiersOf = memoizeByArray((candidates) => {
    const byRegion = new Map<string, string[]>();
    for (const hub of candidates) {
      const region = env.directory(hub).region;
      if (region !== undefined) byRegion.set(region, [...(byRegion.get(region) ?? []), hub]);
    }
    return byRegion;
  });
  return (input) => {
    const value = valueAt(input.payload, path);
    const region = typeof value === 'string' && value.length > 0 ? value.toLowerCase() : undefined;
    if (region !== undefined) {
      const tiers = regionTable.get(region) ?? [region];
      for (const tier of tiers) {
        const inTier = tiersOf(input.candidates).get(tier);
        if (inTier) {
          return hashed(input, inTier, `geo: device region '${region}' -> nearest hub region '${tier}'`);
        }
      }
    }
    const why =
      region === undefined
        ? `payload.${strategy.regionField} holds no region`
        : `no candidate hub is in a region listed for '${region}'`;
    if (onUnknown === 'reject') return { reject: `geo: ${why}` };
    return hashed(input, input.candidates, `geo: ${why}; hashed over all candidates`);
  };
}

function compilePayloadMap(
  strategy: Extract<Strategy, { type: 'payloadMap' }>,
  env: StrategyEnvironment,
  hashed: Hashed,
): StrategyFn {
  const path = parseDottedPath(strategy.field);
  const onMissing = strategy.onMissing ?? 'reject';
  const hostOf = (selector: string): string =>
    selectorKind(selector, env.hubs) === 'alias' ? env.hubs[selector]!.hostName : selector;
  return (input) => {
    const value = valueAt(input.payload, path);
    const key =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
    const named =
      key === undefined
        ? undefined
        : !strategy.map
          ? key
          : Object.hasOwn(strategy.map, key)
            ? strategy.map[key]
            : undefined;
    let why: string;
    if (key === undefined) why = `payload.${strategy.field} is absent or not a scalar`;
    else if (named === undefined) why = `payload.${strategy.field} value '${key}' is not in the map`;
    else {
      const host = hostOf(named).toLowerCase();
      const hub = input.candidates.find((candidate) => candidate.toLowerCase() === host);
      if (hub) return { hub, reason: `payloadMap: payload.${strategy.field} = '${key}' names ${named}` };
      why = `payload.${strategy.field} value '${key}' names '${named}', which is not a candidate`;
    }
    if (onMissing === 'reject') return { reject: `payloadMap: ${why}` };
    return hashed(input, input.candidates, `payloadMap: ${why}; hashed over all candidates`);
  };
}

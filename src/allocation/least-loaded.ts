// The leastLoaded strategy: the candidate with the lowest fill, from the hub device counts. Fill is
// devices / maxDevices, or devices / weight for a hub without maxDevices. Ties go to the weighted rendezvous hash
// of the registration id, so one snapshot of the counts always gives one answer. A candidate without a count
// ranks after every counted one: an unread hub may be the fullest, and a hub ranked as empty would take every
// device until its count arrived.
import { rendezvousIndex, rendezvousIndexAmong, weightedCandidate, type WeightedCandidate } from './hash';
import type { HubInfo } from './hub-selection';
import { memoizeByArray } from './memoize-by-array';
import type { StrategyFn } from './strategies';

export const LEAST_LOADED_REASONS = {
  lowest: 'leastLoaded: lowest fill (devices / maxDevices, or / weight without maxDevices)',
  tied: 'leastLoaded: lowest fill, shared by several hubs: weighted rendezvous hash among them',
  uncounted:
    'leastLoaded: no candidate has a device count (uncounted hubs rank last): weighted rendezvous hash',
} as const;

/** The reason when the counts cannot be used: `unusable` is hubLoadUnusable's answer. */
export function leastLoadedHashedReason(unusable: string): string {
  return `leastLoaded: ${unusable}: weighted rendezvous hash instead`;
}

/** Per candidate array: what a decision reads, and scratch space it writes (decide() runs to completion). */
interface LoadTable {
  keys: readonly string[];
  /** maxDevices, or the weight without one. */
  divisors: Float64Array;
  weighted: readonly WeightedCandidate[];
  fills: Float64Array;
  tied: Uint8Array;
}

export function compileLeastLoaded(directory: (hostName: string) => HubInfo): StrategyFn {
  const tableOf = memoizeByArray((candidates): LoadTable => {
    const infos = candidates.map((hub) => directory(hub));
    return {
      keys: candidates.map((hub) => hub.toLowerCase()),
      divisors: Float64Array.from(infos, (info) => info.maxDevices ?? info.weight),
      weighted: candidates.map((hub, i) => weightedCandidate(hub, infos[i]!.weight)),
      fills: new Float64Array(candidates.length),
      tied: new Uint8Array(candidates.length),
    };
  });
  return ({ registrationKey, candidates, hubCounts, hubCountsUnusable, candidateCounts }) => {
    const table = tableOf(candidates);
    if (hubCounts === undefined) {
      return {
        hub: candidates[rendezvousIndex(registrationKey, table.weighted)]!,
        reason: leastLoadedHashedReason(hubCountsUnusable ?? 'no hub device counts'),
      };
    }
    const { keys, divisors, fills } = table;
    let best = Infinity;
    let bestIndex = -1;
    let ties = 0;
    for (let i = 0; i < candidates.length; i++) {
      // NaN, or undefined from the map: no count. One lookup per candidate: capacity's when it read them.
      const devices = candidateCounts === undefined ? hubCounts.get(keys[i]!) : candidateCounts[i]!;
      if (devices === undefined || Number.isNaN(devices)) {
        fills[i] = NaN;
        continue;
      }
      const fill = devices / divisors[i]!;
      fills[i] = fill;
      if (fill < best) {
        best = fill;
        bestIndex = i;
        ties = 1;
      } else if (fill === best) {
        ties++;
      }
    }
    if (bestIndex < 0) {
      return {
        hub: candidates[rendezvousIndex(registrationKey, table.weighted)]!,
        reason: LEAST_LOADED_REASONS.uncounted,
      };
    }
    if (ties === 1) return { hub: candidates[bestIndex]!, reason: LEAST_LOADED_REASONS.lowest };
    let index: number;
    if (ties === candidates.length) {
      index = rendezvousIndex(registrationKey, table.weighted);
    } else {
      const { tied } = table;
      for (let i = 0; i < candidates.length; i++) tied[i] = fills[i] === best ? 1 : 0;
      index = rendezvousIndexAmong(registrationKey, table.weighted, tied);
    }
    return { hub: candidates[index]!, reason: LEAST_LOADED_REASONS.tied };
  };
}

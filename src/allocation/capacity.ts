// Which candidates may take a new device: never a draining hub, nor one its device counts show full
// (devices >= maxDevices). DPS checks neither: its FAQ leaves hub health to "a custom allocation policy with your
// own monitoring logic" (https://learn.microsoft.com/azure/iot-dps/dps-faq), and takes a hub out of allocation
// only by hand (https://learn.microsoft.com/azure/iot-dps/how-to-manage-linked-iot-hubs).
import type { HubInfo } from './hub-selection';
import { memoizeByArray } from './memoize-by-array';

/** The candidates a strategy may choose among, and what the decision's reason adds about the others. */
export interface Eligibility {
  /** Not draining and not known to be full; the same array for the same outcome, so strategy caches hold. */
  readonly hubs: readonly string[];
  /** Appended to the reason ("; not offered: …", "; maxDevices not checked …"), or '' when nothing to say. */
  readonly note: string;
  /**
   * The device count of each of `hubs` (NaN: none), read by the eligible() call that returned this when the counts
   * were usable, so that a strategy reads them without a second lookup. Scratch: valid until the next call.
   */
  readonly counts: Float64Array | undefined;
}

/** Device counts for one decision: undefined when they are unusable (then `unusable` says why). */
export interface CountsNow {
  counts: ReadonlyMap<string, number> | undefined;
  unusable: string | undefined;
}

export interface Capacity {
  /** Some hub of the policy drains or has maxDevices: without that, every candidate is eligible. */
  readonly active: boolean;
  /** Some hub of the policy has maxDevices: deciding needs the counts. */
  readonly capped: boolean;
  isDraining(hostName: string): boolean;
  /**
   * The eligible candidates. `countsSaidUnusable`: the strategy's reason already says why the counts are
   * unusable, so the note does not repeat it. No eligible hub: `hubs` is empty and `note` says why.
   */
  eligible(candidates: readonly string[], now: CountsNow, countsSaidUnusable: boolean): Eligibility;
}

/** One outcome for a candidate array, with where its hubs sit among the candidates (to copy their counts). */
interface Outcome extends Eligibility {
  readonly counts: Float64Array;
  readonly at: Int32Array;
}

/** What capacity knows of one candidate array (the engine reuses one array per distinct linkedHubs). */
interface CandidateCapacity {
  /** Lower-case host names: the keys of the counts. */
  keys: readonly string[];
  /** maxDevices per candidate; 0 for none, and for a draining hub (it is out whatever its count). */
  caps: Float64Array;
  draining: Uint8Array;
  drainingNames: readonly string[];
  capped: boolean;
  /** The counts of every candidate, read per call. */
  values: Float64Array;
  /** Every candidate but the draining ones: the outcome with counts of which none is full or uncounted. */
  undrained: Outcome;
  /** The same without counts. */
  undrainedUncounted: Eligibility;
  /** Outcomes with counts, by a key made of which candidates are full and which uncounted. */
  byOutcome: Map<number, Outcome>;
}

// Outcome keys pack two bit sets (full, uncounted) into one safe integer.
const MAX_KEYED_CANDIDATES = 26;
const MAX_CACHED_OUTCOMES = 256;

export function compileCapacity(
  hubs: Iterable<{ hostName: string }>,
  directory: (hostName: string) => HubInfo,
): Capacity {
  const infos = [...hubs].map((hub) => directory(hub.hostName));
  const capacityOf = memoizeByArray((candidates): CandidateCapacity => {
    const infosOf = candidates.map((hub) => directory(hub));
    const draining = Uint8Array.from(infosOf, (info) => (info.draining ? 1 : 0));
    const caps = Float64Array.from(infosOf, (info) => (info.draining ? 0 : (info.maxDevices ?? 0)));
    const drainingNames = candidates.filter((_, i) => draining[i] === 1);
    const values = new Float64Array(candidates.length);
    const undrained =
      drainingNames.length === 0
        ? { hubs: candidates, note: '', counts: values, at: Int32Array.from(candidates.keys()) }
        : outcomeOf(
            candidates,
            (i) => draining[i] === 0,
            notOffered(drainingNames.map((hub) => `${hub} (draining)`)),
          );
    return {
      keys: candidates.map((hub) => hub.toLowerCase()),
      caps,
      draining,
      drainingNames,
      capped: caps.some((cap) => cap > 0),
      values,
      undrained,
      undrainedUncounted: { hubs: undrained.hubs, note: undrained.note, counts: undefined },
      byOutcome: new Map(),
    };
  });

  return {
    active: infos.some((info) => info.draining || info.maxDevices !== undefined),
    capped: infos.some((info) => info.maxDevices !== undefined),
    isDraining: (hostName) => directory(hostName).draining,
    eligible(candidates, now, countsSaidUnusable) {
      const known = capacityOf(candidates);
      const { undrained } = known;
      const { counts } = now;
      if (counts === undefined) {
        if (undrained.hubs.length === 0) return noneLeft(known, candidates);
        if (!known.capped) return known.undrainedUncounted;
        const why = countsSaidUnusable ? '' : `: ${now.unusable ?? 'no hub device counts'}`;
        return {
          hubs: undrained.hubs,
          note: `${undrained.note}; maxDevices not checked${why}`,
          counts: undefined,
        };
      }
      // One lookup per candidate that is not draining; bit sets of the full and uncounted while they fit.
      const { keys, caps, draining, values } = known;
      let full = 0;
      let uncounted = 0;
      let anyFull = false;
      let anyUncounted = false;
      for (let i = 0; i < candidates.length; i++) {
        if (draining[i] === 1) continue;
        const devices = counts.get(keys[i]!);
        values[i] = devices ?? NaN;
        const cap = caps[i]!;
        if (cap === 0) continue;
        if (devices === undefined) {
          anyUncounted = true;
          uncounted += 2 ** i;
        } else if (devices >= cap) {
          anyFull = true;
          full += 2 ** i;
        }
      }
      let outcome = undrained;
      if (anyFull || anyUncounted) {
        const keyed = candidates.length <= MAX_KEYED_CANDIDATES;
        const key = full * 2 ** candidates.length + uncounted;
        const cached = keyed ? known.byOutcome.get(key) : undefined;
        outcome = cached ?? outcomeWithCounts(known, candidates);
        if (keyed && !cached) {
          if (known.byOutcome.size >= MAX_CACHED_OUTCOMES) known.byOutcome.clear();
          known.byOutcome.set(key, outcome);
        }
      }
      if (outcome.hubs.length === 0) return noneLeft(known, candidates);
      if (outcome.counts !== values) {
        for (let j = 0; j < outcome.at.length; j++) outcome.counts[j] = values[outcome.at[j]!]!;
      }
      return outcome;
    },
  };
}

/** The candidates `included` keeps, with room for their counts. */
function outcomeOf(candidates: readonly string[], included: (i: number) => boolean, note: string): Outcome {
  const at = Int32Array.from([...candidates.keys()].filter(included));
  return {
    hubs: Object.freeze(Array.from(at, (i) => candidates[i]!)),
    note,
    counts: new Float64Array(at.length),
    at,
  };
}

/** The outcome for the counts just read into `known.values`. */
function outcomeWithCounts(known: CandidateCapacity, candidates: readonly string[]): Outcome {
  const excluded = known.drainingNames.map((hub) => `${hub} (draining)`);
  const unchecked: string[] = [];
  const isFull = (i: number) => known.caps[i]! > 0 && known.values[i]! >= known.caps[i]!;
  candidates.forEach((hub, i) => {
    if (known.draining[i] === 1) return;
    if (known.caps[i]! > 0 && Number.isNaN(known.values[i])) unchecked.push(hub);
    if (isFull(i)) excluded.push(`${hub} (full: maxDevices ${known.caps[i]})`);
  });
  const uncheckedNote =
    unchecked.length === 0 ? '' : `; maxDevices not checked for ${unchecked.join(', ')} (no device count)`;
  return outcomeOf(
    candidates,
    (i) => known.draining[i] === 0 && !isFull(i),
    `${notOffered(excluded)}${uncheckedNote}`,
  );
}

function notOffered(excluded: readonly string[]): string {
  return excluded.length === 0 ? '' : `; not offered: ${excluded.join(', ')}`;
}

/** Every candidate drains or is full: the note is the no-candidate reason, with the counts. */
function noneLeft(known: CandidateCapacity, candidates: readonly string[]): Eligibility {
  const why = candidates.map((hub, i) =>
    known.draining[i] === 1
      ? `${hub}: draining`
      : `${hub}: full, ${known.values[i]} devices of maxDevices ${known.caps[i]}`,
  );
  return { hubs: [], note: `every candidate is full or draining (${why.join('; ')})`, counts: undefined };
}

// Weighted rendezvous (highest random weight) hashing. The hash function is part of the allocation contract:
// changing it would move devices between hubs, so it is fixed here and covered by tests.

/** cyrb53 (public domain, bryc): a fast 53-bit string hash with good avalanche behaviour. */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const TWO_POW_53 = 2 ** 53;

export interface WeightedCandidate {
  /** Seed derived from the lower-case host name, so that letter case never moves a device. */
  seed: number;
  weight: number;
}

export function weightedCandidate(hostName: string, weight: number): WeightedCandidate {
  return { seed: hash53(hostName.toLowerCase()) % 4294967296, weight };
}

/**
 * Index of the candidate with the highest score weight / -ln(u), u = hash(item, candidate seed) in (0, 1).
 * Each candidate wins with probability weight / total, and adding or removing a candidate only moves
 * the items that must move (to or from that candidate).
 */
export function rendezvousIndex(itemKey: string, candidates: readonly WeightedCandidate[]): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const score = rendezvousScore(itemKey, candidates[i]!);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

/**
 * rendezvousIndex over the candidates whose `among` entry is non-zero (the same score, so the same winner as
 * rendezvousIndex over just those); -1 when there are none. A mask, not a sub-array, so a call allocates nothing.
 */
export function rendezvousIndexAmong(
  itemKey: string,
  candidates: readonly WeightedCandidate[],
  among: ArrayLike<number>,
): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < candidates.length; i++) {
    if (among[i] === 0) continue;
    const score = rendezvousScore(itemKey, candidates[i]!);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

function rendezvousScore(itemKey: string, candidate: WeightedCandidate): number {
  const u = (hash53(itemKey, candidate.seed) + 0.5) / TWO_POW_53;
  return candidate.weight / -Math.log(u);
}

// Which of the request's linkedHubs a rule may choose from: hub aliases, host names or globs, in order.
import { globToRegExp, isGlob } from './glob';
import type { Hub } from './policy-schema';

/** Candidates for a linkedHubs list. The same list content gives the same (cached, read-only) array. */
export type HubSelector = (linkedHubs: readonly string[]) => readonly string[];

const CACHED_HUB_LISTS = 256;

// DPS sends the same few linkedHubs lists again and again: select once per distinct list. Lists are bucketed by
// their first hub and compared element by element (cheaper than building a key string for every request).
function cachedByContent(select: (linkedHubs: readonly string[]) => string[]): HubSelector {
  const buckets = new Map<string, { list: readonly string[]; candidates: readonly string[] }[]>();
  let size = 0;
  return (linkedHubs) => {
    const bucketKey = linkedHubs[0] ?? '';
    let bucket = buckets.get(bucketKey);
    const hit = bucket?.find((entry) => sameList(entry.list, linkedHubs));
    if (hit) return hit.candidates;
    if (size >= CACHED_HUB_LISTS) {
      buckets.clear();
      size = 0;
      bucket = undefined;
    }
    const candidates = Object.freeze(select(linkedHubs));
    if (!bucket) buckets.set(bucketKey, (bucket = []));
    bucket.push({ list: [...linkedHubs], candidates });
    size++;
    return candidates;
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export type SelectorKind = 'alias' | 'glob' | 'hostName';

/** How a selector string is read: an alias of `hubs`, a glob over linkedHubs, or a host name. */
export function selectorKind(selector: string, hubs: Readonly<Record<string, Hub>>): SelectorKind {
  if (Object.prototype.hasOwnProperty.call(hubs, selector)) return 'alias';
  if (isGlob(selector)) return 'glob';
  return 'hostName';
}

/**
 * Candidates for a rule: linked hubs picked by each selector in turn (selector order is preference order,
 * ties in linkedHubs order), without duplicates. No selectors: every linked hub. Host names compare
 * case-insensitively, and the returned strings are exactly those DPS sent.
 */
export function compileHubSelector(
  selectors: readonly string[] | undefined,
  hubs: Readonly<Record<string, Hub>>,
): HubSelector {
  if (!selectors) return cachedByContent((linkedHubs) => [...new Set(linkedHubs)]);
  const pickers = selectors.map((selector): ((hub: string) => boolean) => {
    switch (selectorKind(selector, hubs)) {
      case 'alias': {
        const host = hubs[selector]!.hostName.toLowerCase();
        return (hub) => hub.toLowerCase() === host;
      }
      case 'glob': {
        const re = globToRegExp(selector);
        return (hub) => re.test(hub);
      }
      case 'hostName': {
        const host = selector.toLowerCase();
        return (hub) => hub.toLowerCase() === host;
      }
    }
  });
  return cachedByContent((linkedHubs) => {
    const chosen: string[] = [];
    for (const pick of pickers) {
      for (const hub of linkedHubs) {
        if (pick(hub) && !chosen.includes(hub)) chosen.push(hub);
      }
    }
    return chosen;
  });
}

/** Policy knowledge of a hub, looked up by host name (case-insensitive). */
export interface HubInfo {
  alias: string | undefined;
  weight: number;
  region: string | undefined;
  /** The hub's device cap (policy maxDevices); undefined: none. */
  maxDevices: number | undefined;
  /** drain: true in the policy: the hub takes no new device. */
  draining: boolean;
}

export function hubDirectory(hubs: Readonly<Record<string, Hub>>): (hostName: string) => HubInfo {
  const byHost = new Map<string, HubInfo>();
  for (const [alias, hub] of Object.entries(hubs)) {
    byHost.set(hub.hostName.toLowerCase(), {
      alias,
      weight: hub.weight ?? 1,
      region: hub.region?.toLowerCase(),
      maxDevices: hub.maxDevices,
      draining: hub.drain === true,
    });
  }
  const unknown: HubInfo = {
    alias: undefined,
    weight: 1,
    region: undefined,
    maxDevices: undefined,
    draining: false,
  };
  return (hostName) => byHost.get(hostName.toLowerCase()) ?? unknown;
}

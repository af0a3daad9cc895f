// --hub-load host=count,host=count: device counts to decide with, as allocate reads them from the HubLoad table.
import { hubLoadOf, type HubLoadView } from '../../allocation/hub-load';
import { UsageError } from '../shared/usage-error';

/** Devices per hub, by lower-case host name. */
export type HubCounts = ReadonlyMap<string, number>;

export function parseHubLoad(text: string): HubCounts {
  const counts = new Map<string, number>();
  for (const entry of text.split(',').map((part) => part.trim())) {
    const match = /^([^=\s]+)=(\d{1,12})$/.exec(entry);
    if (!match) {
      throw new UsageError(
        `--hub-load entry '${entry}' is not <host>=<devices> (e.g. hub-1.azure-devices.net=5000)`,
      );
    }
    const host = match[1]!.toLowerCase();
    if (counts.has(host)) throw new UsageError(`--hub-load lists '${match[1]}' twice`);
    counts.set(host, Number(match[2]));
  }
  return counts;
}

/** A hub of --hub-load that is not linked is likely a typo: its count would decide nothing. */
export function checkHubLoadLinked(counts: HubCounts, linkedHubs: readonly string[], linkedBy: string): void {
  const linked = new Set(linkedHubs.map((hub) => hub.toLowerCase()));
  for (const host of counts.keys()) {
    if (!linked.has(host)) throw new UsageError(`--hub-load names '${host}', which is not in ${linkedBy}`);
  }
}

/**
 * The counts as a view read now, for these linked hubs; a linked hub that --hub-load does not list starts at 0.
 * The view never goes stale: the devices map is the caller's to add assignments to.
 */
export function simulatedHubLoad(
  counts: HubCounts,
  linkedHubs: readonly string[],
  now: number,
): HubLoadView & { devices: Map<string, number> } {
  const entries = linkedHubs.map((hub): [string, number] => [hub, counts.get(hub.toLowerCase()) ?? 0]);
  return hubLoadOf(entries, now, Number.POSITIVE_INFINITY);
}

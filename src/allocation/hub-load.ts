// What allocation knows of how full each IoT hub is: device counts read from the hubs' registry statistics (the
// hub-load timer writes them to the <prefix>HubLoad table; allocate keeps a copy it refreshes in the background)
// plus the assignments this worker made since. Pure data: the engine reads it, never fetches it.

export interface HubLoadView {
  /** Devices per hub, by lower-case host name, including this worker's assignments since the counts were read. */
  readonly devices: ReadonlyMap<string, number>;
  /** When the counts were read (ms since the epoch): the oldest read among the hubs; undefined: none yet. */
  readonly readAtMs: number | undefined;
  /** Counts older than this are stale: capacity rules fall back to the hash and say so (HUB_LOAD_MAX_AGE_SECONDS). */
  readonly maxAgeMs: number;
}

/** No counts at all (the table unavailable, or before the first load). */
export const NO_HUB_LOAD: HubLoadView = { devices: new Map(), readAtMs: undefined, maxAgeMs: 0 };

/** Why the counts cannot be used now, or undefined when they can. */
export function hubLoadUnusable(view: HubLoadView, nowMs: number): string | undefined {
  if (view.readAtMs === undefined) return 'no hub device counts yet';
  const ageMs = nowMs - view.readAtMs;
  if (ageMs > view.maxAgeMs) {
    return `hub device counts are ${Math.round(ageMs / 1000)} s old (more than ${Math.round(view.maxAgeMs / 1000)} s)`;
  }
  return undefined;
}

/** A view of these counts (host names in any letter case), read at `readAtMs`. The map is new: the caller's own. */
export function hubLoadOf(
  counts: Iterable<readonly [hostName: string, devices: number]>,
  readAtMs: number,
  maxAgeMs: number,
): HubLoadView & { devices: Map<string, number> } {
  const devices = new Map<string, number>();
  for (const [hostName, count] of counts) devices.set(hostName.toLowerCase(), count);
  return { devices, readAtMs, maxAgeMs };
}

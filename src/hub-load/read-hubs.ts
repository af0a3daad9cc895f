// One hub-load run: each hub's registry statistics read at once, written to the HubLoad table in one transaction.
// A hub that cannot be read keeps its last counts and readAt (they go stale) with the error recorded; rows of hubs
// no longer configured are deleted. The storage calls are the run's only hard failures.
import type { HubLoadStore } from './store';
import type { DeviceStatistics } from './statistics';
import { failedRow, readRow, type HubLoadRow } from './table';

/** A run gives up on a hub after this: the next run (a minute later by default) tries again. */
export const HUB_READ_DEADLINE_MS = 30_000;

export interface HubLoadRunDeps {
  statistics: { deviceStatistics(hostName: string, signal?: AbortSignal): Promise<DeviceStatistics> };
  store: Pick<HubLoadStore, 'readRows' | 'write'>;
  now?: () => Date;
}

/** What a run did: the one log line of the timer. */
export interface HubLoadRun {
  event: 'hub-load-run';
  hubs: number;
  read: number;
  failed: number;
  /** Total devices per hub read now; null where the read failed. */
  devices: Record<string, number | null>;
  /** Why each failed hub failed (redacted, as in its row). */
  errors: Record<string, string>;
  /** Rows deleted because their hub is no longer in HUB_LOAD_HUBS. */
  removed: number;
  durationMs: number;
}

export async function readHubLoad(
  hubs: readonly string[],
  deps: HubLoadRunDeps,
  deadlineMs = HUB_READ_DEADLINE_MS,
): Promise<HubLoadRun> {
  const now = deps.now ?? (() => new Date());
  const started = performance.now();
  const hosts = [...new Set(hubs.map((hub) => hub.toLowerCase()))];
  const previous = new Map((await deps.store.readRows()).map((row) => [row.hostName, row]));
  const rows = await Promise.all(
    hosts.map(async (host): Promise<HubLoadRow> => {
      // One signal per hub: a shared one would carry a listener for every request of the run.
      const deadline = AbortSignal.timeout(deadlineMs);
      try {
        const statistics = await deps.statistics.deviceStatistics(host, deadline);
        return readRow(host, statistics, now());
      } catch (error) {
        const reason = deadline.aborted
          ? `no answer within ${Math.round(deadlineMs / 1000)} s`
          : error instanceof Error
            ? error.message
            : String(error);
        return failedRow(host, previous.get(host), reason, now());
      }
    }),
  );
  const removed = [...previous.values()].filter((row) => !hosts.includes(row.hostName));
  await deps.store.write(
    rows,
    removed.map((row) => row.rowKey),
  );
  const devices: HubLoadRun['devices'] = {};
  const errors: HubLoadRun['errors'] = {};
  for (const row of rows) {
    devices[row.hostName] = row.lastError === undefined ? (row.totalDeviceCount ?? null) : null;
    if (row.lastError !== undefined) errors[row.hostName] = row.lastError;
  }
  const failed = Object.keys(errors).length;
  return {
    event: 'hub-load-run',
    hubs: hosts.length,
    read: hosts.length - failed,
    failed,
    devices,
    errors,
    removed: removed.length,
    durationMs: Math.round(performance.now() - started),
  };
}

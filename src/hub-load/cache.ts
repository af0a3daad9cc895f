// allocate's copy of the hub device counts: loaded from the HubLoad table when created and again every
// HUB_LOAD_REFRESH_SECONDS by an unref'd timer, never on a request's path. view() is synchronous: the counts plus
// this worker's own assignments since they were read, so that a burst does not all go to the hub that was emptiest
// at the last refresh. An assignment stops being added once a refresh brings counts read after it (it is in the
// count). A failed refresh keeps the last counts, which go stale (the engine then falls back to the hash and says
// so), with one warning per outage.
import { NO_HUB_LOAD, type HubLoadView } from '../allocation/hub-load';
import type { HubLoadSource } from '../allocation/setup';
import type { HubLoadRow } from './table';

export interface HubLoadNotices {
  info(message: string): void;
  warn(message: string): void;
}

export interface HubLoadCacheOptions {
  /** The hubs whose counts are used (HUB_LOAD_HUBS); rows of other hubs are ignored. */
  hubs: readonly string[];
  /** Reads the table's rows; `signal` aborts a read that takes too long. */
  read(signal: AbortSignal): Promise<readonly HubLoadRow[]>;
  refreshMs: number;
  maxAgeMs: number;
  notices: HubLoadNotices;
  /** Names the table in notices. */
  source?: string;
  /** A read without an answer by then is given up (the last counts kept); default 10 s. */
  readTimeoutMs?: number;
  /** Time source, ms since the epoch; tests pass their own. */
  now?: () => number;
}

interface HubCount {
  devices: number;
  readAtMs: number;
}

/** A hub's own assignments not yet in a count: times (ms) ascending, with how many were made at each. */
interface OwnAssignments {
  times: number[];
  counts: number[];
  total: number;
}

export class HubLoadCache implements HubLoadSource {
  private readonly hubs: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly source: string;
  private counts = new Map<string, HubCount>();
  private readonly own = new Map<string, OwnAssignments>();
  /** Count plus own assignments, per counted hub: the current view's devices. */
  private live = new Map<string, number>();
  private current: HubLoadView;
  private running: Promise<void> | undefined;
  private outage: string | undefined;
  private saidEmpty = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly first: Promise<void>;

  constructor(private readonly options: HubLoadCacheOptions) {
    this.hubs = new Set(options.hubs.map((hub) => hub.toLowerCase()));
    this.now = options.now ?? Date.now;
    this.source = options.source ?? 'the HubLoad table';
    this.current = { ...NO_HUB_LOAD, maxAgeMs: options.maxAgeMs };
    // The first load starts on the next turn: creating the cache (at module load) stays cheap.
    this.first = new Promise((resolve) => setImmediate(() => void this.refresh().then(resolve)));
    this.timer = setInterval(() => void this.refresh(), options.refreshMs).unref();
  }

  /**
   * The counts as the engine reads them (DecideOptions.hubLoad); never waits. One object from refresh to refresh,
   * whose `devices` take this worker's assignments as they are made: nothing is copied per request.
   */
  view(): HubLoadView {
    return this.current;
  }

  /** A device this worker just assigned to `hostName` (a new device there), added until a count includes it. */
  recordAssignment(hostName: string): void {
    const host = hostName.toLowerCase();
    if (!this.hubs.has(host) || this.closed) return;
    const at = this.now();
    let own = this.own.get(host);
    if (!own) this.own.set(host, (own = { times: [], counts: [], total: 0 }));
    const last = own.times.length - 1;
    if (last >= 0 && own.times[last] === at) own.counts[last]!++;
    else {
      own.times.push(at);
      own.counts.push(1);
    }
    own.total++;
    const devices = this.live.get(host);
    if (devices !== undefined) this.live.set(host, devices + 1);
  }

  /** Settles when the first load has succeeded or failed (tests, benchmarks). */
  ready(): Promise<void> {
    return this.first;
  }

  /** Reloads the counts now (one load at a time); never rejects. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= this.load().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the refreshes (the app's terminate hook). */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private async load(): Promise<void> {
    let rows: readonly HubLoadRow[];
    try {
      rows = await this.options.read(AbortSignal.timeout(this.options.readTimeoutMs ?? 10_000));
    } catch (error) {
      this.noteOutage(error);
      return;
    }
    if (this.outage !== undefined) {
      this.outage = undefined;
      this.options.notices.info(`Hub load: ${this.source} can be read again; allocation has fresh counts.`);
    }
    const counts = new Map<string, HubCount>();
    for (const row of rows) {
      const host = row.hostName.toLowerCase();
      if (!this.hubs.has(host) || row.totalDeviceCount === undefined || row.readAt === undefined) continue;
      counts.set(host, { devices: row.totalDeviceCount, readAtMs: row.readAt.getTime() });
    }
    this.noteEmpty(counts.size === 0);
    this.counts = counts;
    this.forgetCounted();
    this.rebuild();
  }

  /** Drops own assignments a count includes, and those older than the longest counts stay usable. */
  private forgetCounted(): void {
    const oldest = this.now() - this.options.maxAgeMs;
    for (const [host, own] of this.own) {
      const readAt = Math.max(this.counts.get(host)?.readAtMs ?? -Infinity, oldest);
      let first = 0;
      while (first < own.times.length && own.times[first]! <= readAt) first++;
      if (first === own.times.length) {
        this.own.delete(host);
        continue;
      }
      own.times.splice(0, first);
      own.counts.splice(0, first);
      own.total = own.counts.reduce((sum, count) => sum + count, 0);
    }
  }

  private rebuild(): void {
    const live = new Map<string, number>();
    let readAtMs: number | undefined;
    for (const [host, count] of this.counts) {
      live.set(host, count.devices + (this.own.get(host)?.total ?? 0));
      readAtMs = readAtMs === undefined ? count.readAtMs : Math.min(readAtMs, count.readAtMs);
    }
    this.live = live;
    this.current =
      readAtMs === undefined
        ? { ...NO_HUB_LOAD, maxAgeMs: this.options.maxAgeMs }
        : { devices: live, readAtMs, maxAgeMs: this.options.maxAgeMs };
  }

  private noteOutage(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (this.outage !== undefined) return; // one warning per outage, not per refresh
    this.outage = reason;
    const readAt = this.view().readAtMs;
    const kept =
      readAt === undefined
        ? 'allocation has no hub counts until it can'
        : `allocation keeps the counts read at ${new Date(readAt).toISOString()}, stale ` +
          `${Math.round(this.options.maxAgeMs / 1000)} s after that`;
    this.options.notices.warn(
      `Hub load: ${this.source} cannot be read (${reason}); ${kept}. Trying again every ` +
        `${Math.round(this.options.refreshMs / 1000)} s.`,
    );
  }

  private noteEmpty(empty: boolean): void {
    if (empty && !this.saidEmpty) {
      this.options.notices.info(
        `Hub load: no device counts in ${this.source} for HUB_LOAD_HUBS yet (has the hub-load timer run?).`,
      );
    }
    this.saidEmpty = empty;
  }
}
